/**
 * Event-data decoding by event type (TCG PC Client PFP: EV_NO_ACTION payloads, UEFI
 * event structures; Intel TXT event types and the TrenchBoot Secure Launch types, see constants.ts).
 * Decoding is best
 * effort and never throws: data that does not fit its structure yields `{ kind: 'raw' }` with a
 * reason. Every length is checked against the remaining bytes before use.
 */
import { toHex, u32le, u64le } from '../bytes/index.js';
import { EV, SLAUNCH_EVTYPE, TXT_EVTYPE_MAX, TXT_EVTYPE_MIN, eventTypeName } from './constants.js';
import { isSpecId00, isSpecId03 } from './spec-id.js';
import { startupLocalityOf } from './replay.js';

export type EventDetails =
  | { kind: 'spec-id'; signature: string }
  | { kind: 'startup-locality'; locality: number }
  | { kind: 'sp800-155-event3'; vendorId: number; referenceManifestGuid: string }
  | { kind: 'no-action'; signature: string }
  | { kind: 'separator'; value: number }
  | { kind: 'string'; text: string; encoding: 'ascii' | 'utf-16le' }
  | { kind: 'firmware-blob'; base: string; length: string; description?: string }
  | { kind: 'efi-variable'; variableGuid: string; name: string; dataLength: number }
  | { kind: 'efi-image-load'; imageLocation: string; imageLength: string; linkTimeAddress: string; devicePath: string }
  | { kind: 'efi-gpt'; diskGuid: string; numberOfPartitions: number }
  | { kind: 'event-tag'; taggedEventId: number; dataSize: number }
  | { kind: 'drtm'; name: string; info?: string }
  | { kind: 'raw'; reason?: string };

/** UEFI_VARIABLE_DATA (TCG PC Client PFP). */
export const UEFI_VARIABLE_DATA = { OFF_VARIABLE_NAME: 0, OFF_UNICODE_NAME_LENGTH: 16, OFF_VARIABLE_DATA_LENGTH: 24, OFF_UNICODE_NAME: 32 } as const;
/** UEFI_IMAGE_LOAD_EVENT (TCG PC Client PFP). */
export const UEFI_IMAGE_LOAD_EVENT = { OFF_LOCATION: 0, OFF_LENGTH: 8, OFF_LINK_TIME_ADDRESS: 16, OFF_LENGTH_OF_DEVICE_PATH: 24, OFF_DEVICE_PATH: 32 } as const;
/** UEFI_GPT_DATA: EFI_PARTITION_TABLE_HEADER (92 bytes; DiskGUID at 56) then NumberOfPartitions u64. */
export const UEFI_GPT_DATA = { OFF_DISK_GUID: 56, OFF_NUMBER_OF_PARTITIONS: 92, MIN_SIZE: 100 } as const;
/** UEFI_PLATFORM_FIRMWARE_BLOB: BlobBase u64, BlobLength u64. */
export const UEFI_PLATFORM_FIRMWARE_BLOB_SIZE = 16;
/** TCG_Sp800_155_PlatformId_Event3: Signature[16], VendorId u32, ReferenceManifestGuid (16). */
export const SP800_155_EVENT3 = { OFF_VENDOR_ID: 16, OFF_REFERENCE_MANIFEST_GUID: 20, MIN_SIZE: 36 } as const;
/** TCG_PCClientTaggedEvent: taggedEventID u32, taggedEventDataSize u32, data. */
export const TAGGED_EVENT = { OFF_ID: 0, OFF_DATA_SIZE: 4, HEADER_SIZE: 8 } as const;

/** EFI_GUID (mixed-endian) as text. */
export function guidLittleEndianToString(b: Uint8Array, off: number): string {
  const h = (o: number, n: number): string => toHex(b.subarray(o, o + n));
  const le = (o: number, n: number): string => toHex(b.subarray(o, o + n).slice().reverse());
  return `${le(off, 4)}-${le(off + 4, 2)}-${le(off + 6, 2)}-${h(off + 8, 2)}-${h(off + 10, 6)}`;
}

const hex64 = (b: Uint8Array, off: number): string => `0x${u64le(b, off).toString(16).padStart(16, '0')}`;

/** Printable ASCII (tab/CR/LF allowed), one trailing NUL tolerated. */
function asciiText(d: Uint8Array): string | null {
  const n = d.length > 0 && d[d.length - 1] === 0 ? d.length - 1 : d.length;
  if (n === 0) return null;
  for (let i = 0; i < n; i++) {
    const c = d[i] ?? 0;
    if (!(c === 9 || c === 10 || c === 13 || (c >= 0x20 && c < 0x7f))) return null;
  }
  return new TextDecoder('latin1').decode(d.subarray(0, n));
}

/** UTF-16LE text (printable BMP, high bytes zero), trailing NUL tolerated. */
export function utf16Text(d: Uint8Array): string | null {
  if (d.length < 2 || d.length % 2 !== 0) return null;
  let n = d.length;
  if (d[n - 1] === 0 && d[n - 2] === 0) n -= 2;
  if (n === 0) return null;
  for (let i = 0; i < n; i += 2) {
    const c = d[i] ?? 0;
    if (d[i + 1] !== 0 || !(c === 9 || c === 10 || c === 13 || (c >= 0x20 && c < 0x7f))) return null;
  }
  return new TextDecoder('utf-16le').decode(d.subarray(0, n));
}

function text(d: Uint8Array): EventDetails {
  const a = asciiText(d);
  if (a !== null) return { kind: 'string', text: a, encoding: 'ascii' };
  const u = utf16Text(d);
  if (u !== null) return { kind: 'string', text: u, encoding: 'utf-16le' };
  return { kind: 'raw', reason: 'not text' };
}

/** UEFI_VARIABLE_DATA: VariableName GUID, UnicodeNameLength u64, VariableDataLength u64, name, data. */
export function splitUefiVariable(d: Uint8Array): { guid: string; name: string; nameEnd: number; dataLength: number } | null {
  const V = UEFI_VARIABLE_DATA;
  if (d.length < V.OFF_UNICODE_NAME) return null;
  const nameLen = u64le(d, V.OFF_UNICODE_NAME_LENGTH);
  const dataLen = u64le(d, V.OFF_VARIABLE_DATA_LENGTH);
  const avail = BigInt(d.length - V.OFF_UNICODE_NAME);
  if (nameLen * 2n > avail || dataLen > avail - nameLen * 2n) return null;
  const nameEnd = V.OFF_UNICODE_NAME + Number(nameLen) * 2;
  return {
    guid: guidLittleEndianToString(d, V.OFF_VARIABLE_NAME),
    name: new TextDecoder('utf-16le').decode(d.subarray(V.OFF_UNICODE_NAME, nameEnd)),
    nameEnd,
    dataLength: Number(dataLen),
  };
}

function efiVariable(d: Uint8Array): EventDetails {
  const v = splitUefiVariable(d);
  return v ? { kind: 'efi-variable', variableGuid: v.guid, name: v.name, dataLength: v.dataLength } : { kind: 'raw', reason: 'UEFI_VARIABLE_DATA lengths past the end' };
}

function imageLoad(d: Uint8Array): EventDetails {
  const I = UEFI_IMAGE_LOAD_EVENT;
  if (d.length < I.OFF_DEVICE_PATH) return { kind: 'raw', reason: 'UEFI_IMAGE_LOAD_EVENT shorter than 32 bytes' };
  const dpLen = u64le(d, I.OFF_LENGTH_OF_DEVICE_PATH);
  if (dpLen > BigInt(d.length - I.OFF_DEVICE_PATH)) return { kind: 'raw', reason: 'LengthOfDevicePath past the end' };
  return {
    kind: 'efi-image-load',
    imageLocation: hex64(d, I.OFF_LOCATION),
    imageLength: hex64(d, I.OFF_LENGTH),
    linkTimeAddress: hex64(d, I.OFF_LINK_TIME_ADDRESS),
    devicePath: toHex(d.subarray(I.OFF_DEVICE_PATH, I.OFF_DEVICE_PATH + Number(dpLen))),
  };
}

function firmwareBlob(d: Uint8Array, v2: boolean): EventDetails {
  if (!v2) return d.length === UEFI_PLATFORM_FIRMWARE_BLOB_SIZE ? { kind: 'firmware-blob', base: hex64(d, 0), length: hex64(d, 8) } : text(d);
  const n = d[0] ?? 0;
  if (d.length !== 1 + n + UEFI_PLATFORM_FIRMWARE_BLOB_SIZE) return { kind: 'raw', reason: 'UEFI_PLATFORM_FIRMWARE_BLOB2 size mismatch' };
  return { kind: 'firmware-blob', description: new TextDecoder('latin1').decode(d.subarray(1, 1 + n)), base: hex64(d, 1 + n), length: hex64(d, 9 + n) };
}

function noAction(pcr: number, d: Uint8Array): EventDetails {
  if (isSpecId03(d) || isSpecId00(d)) return { kind: 'spec-id', signature: new TextDecoder('latin1').decode(d.subarray(0, 15)) };
  const l = startupLocalityOf(pcr, EV.NO_ACTION, d);
  if (l !== null) return { kind: 'startup-locality', locality: l };
  const sig = new TextDecoder('latin1').decode(d.subarray(0, Math.min(16, d.length))).replace(/\0+$/, '');
  if (sig === 'SP800-155 Event3' && d.length >= SP800_155_EVENT3.MIN_SIZE) {
    return { kind: 'sp800-155-event3', vendorId: u32le(d, SP800_155_EVENT3.OFF_VENDOR_ID), referenceManifestGuid: guidLittleEndianToString(d, SP800_155_EVENT3.OFF_REFERENCE_MANIFEST_GUID) };
  }
  return { kind: 'no-action', signature: sig.replace(/[^\x20-\x7e]/g, '.') };
}

/** Decode an event's data according to its type. Never throws. */
export function decodeEventData(pcr: number, type: number, d: Uint8Array): EventDetails {
  switch (type) {
    case EV.NO_ACTION:
      return noAction(pcr, d);
    case EV.SEPARATOR:
      return d.length === 4 ? { kind: 'separator', value: u32le(d, 0) } : { kind: 'raw', reason: 'separator is not 4 bytes' };
    case EV.POST_CODE:
    case EV.EFI_PLATFORM_FIRMWARE_BLOB:
      return firmwareBlob(d, false);
    case EV.POST_CODE2:
    case EV.EFI_PLATFORM_FIRMWARE_BLOB2:
      return firmwareBlob(d, true);
    case EV.S_CRTM_VERSION:
    case EV.IPL:
    case EV.EFI_ACTION:
    case EV.ACTION:
    case EV.S_CRTM_CONTENTS:
      return text(d);
    case EV.EFI_VARIABLE_DRIVER_CONFIG:
    case EV.EFI_VARIABLE_BOOT:
    case EV.EFI_VARIABLE_BOOT2:
    case EV.EFI_VARIABLE_AUTHORITY:
      return efiVariable(d);
    case EV.EFI_BOOT_SERVICES_APPLICATION:
    case EV.EFI_BOOT_SERVICES_DRIVER:
    case EV.EFI_RUNTIME_SERVICES_DRIVER:
      return imageLoad(d);
    case EV.EFI_GPT_EVENT:
    case EV.EFI_GPT_EVENT2: {
      // UEFI_GPT_DATA: EFI_PARTITION_TABLE_HEADER (92 bytes), NumberOfPartitions u64, entries.
      if (d.length < UEFI_GPT_DATA.MIN_SIZE) return { kind: 'raw', reason: 'UEFI_GPT_DATA shorter than 100 bytes' };
      const n = u64le(d, UEFI_GPT_DATA.OFF_NUMBER_OF_PARTITIONS);
      return { kind: 'efi-gpt', diskGuid: guidLittleEndianToString(d, UEFI_GPT_DATA.OFF_DISK_GUID), numberOfPartitions: n > 0xffffn ? -1 : Number(n) };
    }
    case EV.EVENT_TAG: {
      if (d.length < TAGGED_EVENT.HEADER_SIZE) return { kind: 'raw', reason: 'TCG_PCClientTaggedEvent shorter than 8 bytes' };
      const size = u32le(d, TAGGED_EVENT.OFF_DATA_SIZE);
      return size <= d.length - TAGGED_EVENT.HEADER_SIZE ? { kind: 'event-tag', taggedEventId: u32le(d, TAGGED_EVENT.OFF_ID), dataSize: size } : { kind: 'raw', reason: 'taggedEventDataSize past the end' };
    }
    default:
      break;
  }
  if ((type >= TXT_EVTYPE_MIN && type <= TXT_EVTYPE_MAX) || type === SLAUNCH_EVTYPE.SLAUNCH || type === SLAUNCH_EVTYPE.SLAUNCH_START || type === SLAUNCH_EVTYPE.SLAUNCH_END) {
    const t = d.length > 0 && d.length <= 256 ? asciiText(d) : null;
    return t !== null ? { kind: 'drtm', name: eventTypeName(type), info: t } : { kind: 'drtm', name: eventTypeName(type) };
  }
  return { kind: 'raw' };
}

