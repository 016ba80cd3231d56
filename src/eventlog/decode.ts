/**
 * Event-data decoding by event type (TCG PC Client PFP §10.4: EV_NO_ACTION payloads, UEFI
 * structures of §10.4.x; TXT and Secure Launch types of facts §5.1, §6(c)). Decoding is best
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
  if (d.length < 32) return null;
  const nameLen = u64le(d, 16);
  const dataLen = u64le(d, 24);
  const avail = BigInt(d.length - 32);
  if (nameLen * 2n > avail || dataLen > avail - nameLen * 2n) return null;
  const nameEnd = 32 + Number(nameLen) * 2;
  return {
    guid: guidLittleEndianToString(d, 0),
    name: new TextDecoder('utf-16le').decode(d.subarray(32, nameEnd)),
    nameEnd,
    dataLength: Number(dataLen),
  };
}

function efiVariable(d: Uint8Array): EventDetails {
  const v = splitUefiVariable(d);
  return v ? { kind: 'efi-variable', variableGuid: v.guid, name: v.name, dataLength: v.dataLength } : { kind: 'raw', reason: 'UEFI_VARIABLE_DATA lengths past the end' };
}

function imageLoad(d: Uint8Array): EventDetails {
  if (d.length < 32) return { kind: 'raw', reason: 'UEFI_IMAGE_LOAD_EVENT shorter than 32 bytes' };
  const dpLen = u64le(d, 24);
  if (dpLen > BigInt(d.length - 32)) return { kind: 'raw', reason: 'LengthOfDevicePath past the end' };
  return {
    kind: 'efi-image-load',
    imageLocation: hex64(d, 0),
    imageLength: hex64(d, 8),
    linkTimeAddress: hex64(d, 16),
    devicePath: toHex(d.subarray(32, 32 + Number(dpLen))),
  };
}

function firmwareBlob(d: Uint8Array, v2: boolean): EventDetails {
  if (!v2) return d.length === 16 ? { kind: 'firmware-blob', base: hex64(d, 0), length: hex64(d, 8) } : text(d);
  const n = d[0] ?? 0;
  if (d.length !== 1 + n + 16) return { kind: 'raw', reason: 'UEFI_PLATFORM_FIRMWARE_BLOB2 size mismatch' };
  return { kind: 'firmware-blob', description: new TextDecoder('latin1').decode(d.subarray(1, 1 + n)), base: hex64(d, 1 + n), length: hex64(d, 9 + n) };
}

function noAction(pcr: number, d: Uint8Array): EventDetails {
  if (isSpecId03(d) || isSpecId00(d)) return { kind: 'spec-id', signature: new TextDecoder('latin1').decode(d.subarray(0, 15)) };
  const l = startupLocalityOf(pcr, EV.NO_ACTION, d);
  if (l !== null) return { kind: 'startup-locality', locality: l };
  const sig = new TextDecoder('latin1').decode(d.subarray(0, Math.min(16, d.length))).replace(/\0+$/, '');
  if (sig === 'SP800-155 Event3' && d.length >= 36) return { kind: 'sp800-155-event3', vendorId: u32le(d, 16), referenceManifestGuid: guidLittleEndianToString(d, 20) };
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
      if (d.length < 100) return { kind: 'raw', reason: 'UEFI_GPT_DATA shorter than 100 bytes' };
      const n = u64le(d, 92);
      return { kind: 'efi-gpt', diskGuid: guidLittleEndianToString(d, 56), numberOfPartitions: n > 0xffffn ? -1 : Number(n) };
    }
    case EV.EVENT_TAG: {
      if (d.length < 8) return { kind: 'raw', reason: 'TCG_PCClientTaggedEvent shorter than 8 bytes' };
      const size = u32le(d, 4);
      return size <= d.length - 8 ? { kind: 'event-tag', taggedEventId: u32le(d, 0), dataSize: size } : { kind: 'raw', reason: 'taggedEventDataSize past the end' };
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

