import { describe, expect, it } from 'vitest';
import { LeWriter } from '../../src/bytes/index.js';
import { digest, extendValue } from '../../src/hash/index.js';
import { EV, SLAUNCH_EVTYPE, TXT_EVTYPE } from '../../src/eventlog/constants.js';
import { decodeEventData, type EventDetails } from '../../src/eventlog/decode.js';
import { parseEventLog } from '../../src/eventlog/parse.js';
import { replayEventLog } from '../../src/eventlog/replay.js';
import { Tcg2Log } from '../../src/eventlog/tcg2.js';
import { loadVectors } from './vectors.js';

const enc = new TextEncoder();
const vectors = loadVectors();
const firstOf = (name: string, type: number): EventDetails => {
  const log = parseEventLog(vectors.find((v) => v.name === name)?.bytes ?? new Uint8Array(0));
  const e = log.events.find((x) => x.type === type);
  if (!e) throw new Error(`no 0x${type.toString(16)} in ${name}`);
  return decodeEventData(e.pcr, e.type, e.data);
};

describe('event data decoding (TCG PC Client PFP event data; Intel TXT and Secure Launch types)', () => {
  it.each([
    ['Spec ID Event03 header', 'gotpmtools-glinux-alex', EV.NO_ACTION, { kind: 'spec-id', signature: 'Spec ID Event03' }],
    ['EV_EFI_VARIABLE_DRIVER_CONFIG', 'tpm2tools-event-uefivar', EV.EFI_VARIABLE_DRIVER_CONFIG, { kind: 'efi-variable', variableGuid: '8be4df61-93ca-11d2-aa0d-00e098032b8c', name: 'SecureBoot', dataLength: 1 }],
    ['EV_EFI_BOOT_SERVICES_DRIVER', 'tpm2tools-event-uefiservices', EV.EFI_BOOT_SERVICES_DRIVER, { kind: 'efi-image-load' }],
    ['EV_EFI_ACTION', 'tpm2tools-event-uefiaction', EV.EFI_ACTION, { kind: 'string', encoding: 'ascii' }],
    ['EV_EFI_PLATFORM_FIRMWARE_BLOB', 'tpm2tools-event', EV.EFI_PLATFORM_FIRMWARE_BLOB, { kind: 'firmware-blob' }],
    ['EV_SEPARATOR', 'tpm2tools-event-bootorder', EV.SEPARATOR, { kind: 'separator', value: 0 }],
    ['EV_EFI_GPT_EVENT', 'gotpmtools-rhel8-uefi', EV.EFI_GPT_EVENT, { kind: 'efi-gpt' }],
    ['EV_EVENT_TAG', 'tpm2tools-event-sd-boot-fedora37', EV.EVENT_TAG, { kind: 'event-tag' }],
    ['EV_S_CRTM_VERSION', 'gotpmtools-ubuntu-2104-no-dbx', EV.S_CRTM_VERSION, { kind: 'string', encoding: 'utf-16le' }],
    ['EV_IPL (GRUB)', 'tpm2tools-event-bootorder', EV.IPL, { kind: 'string' }],
    ['EV_EFI_VARIABLE_BOOT', 'tpm2tools-event-bootorder', EV.EFI_VARIABLE_BOOT, { kind: 'efi-variable', name: 'BootOrder' }],
  ])('%s', (_n, name, type, shape) => {
    expect(firstOf(name, type)).toMatchObject(shape);
  });

  it('StartupLocality and SP800-155 Event3 records', () => {
    const alex = parseEventLog(vectors.find((v) => v.name === 'gotpmtools-glinux-alex')?.bytes ?? new Uint8Array(0));
    const kinds = alex.events.map((e) => decodeEventData(e.pcr, e.type, e.data));
    expect(kinds).toContainEqual({ kind: 'startup-locality', locality: 3 });
    const sp = parseEventLog(vectors.find((v) => v.name === 'gotpmtools-eventlogwithsp800155')?.bytes ?? new Uint8Array(0));
    expect(sp.events.map((e) => decodeEventData(e.pcr, e.type, e.data).kind)).toContain('sp800-155-event3');
  });

  it('TXT and Secure Launch types by name, evt_info as text', () => {
    expect(decodeEventData(17, TXT_EVTYPE.HASH_START, new Uint8Array(0))).toEqual({ kind: 'drtm', name: 'TXT_EVTYPE_HASH_START' });
    expect(decodeEventData(17, SLAUNCH_EVTYPE.SLAUNCH, enc.encode('Measured MB2 module'))).toEqual({ kind: 'drtm', name: 'DLE_EVTYPE_SLAUNCH', info: 'Measured MB2 module' });
    expect(decodeEventData(17, SLAUNCH_EVTYPE.SLAUNCH_START, new Uint8Array(0))).toEqual({ kind: 'drtm', name: 'DLE_EVTYPE_SLAUNCH_START' });
  });

  it('EV_EFI_PLATFORM_FIRMWARE_BLOB2 and malformed structures degrade to raw', () => {
    const blob2 = new LeWriter().u8(3).bytes(enc.encode('PEI')).u64(0xfff00000n).u64(0x100000n).finish();
    expect(decodeEventData(0, EV.EFI_PLATFORM_FIRMWARE_BLOB2, blob2)).toEqual({ kind: 'firmware-blob', description: 'PEI', base: '0x00000000fff00000', length: '0x0000000000100000' });
    expect(decodeEventData(0, EV.EFI_PLATFORM_FIRMWARE_BLOB2, blob2.subarray(0, 10)).kind).toBe('raw');
    const badVar = new LeWriter().bytes(new Uint8Array(16)).u64(0xffffffffffffffffn).u64(1n).finish();
    expect(decodeEventData(7, EV.EFI_VARIABLE_DRIVER_CONFIG, badVar).kind).toBe('raw');
    const badImg = new LeWriter().u64(0n).u64(0n).u64(0n).u64(1000n).finish();
    expect(decodeEventData(2, EV.EFI_BOOT_SERVICES_DRIVER, badImg).kind).toBe('raw');
    expect(decodeEventData(6, EV.EVENT_TAG, new LeWriter().u32(1).u32(99).finish()).kind).toBe('raw');
    expect(decodeEventData(4, EV.SEPARATOR, new Uint8Array(3)).kind).toBe('raw');
    expect(decodeEventData(9, 0x12345678, new Uint8Array([1, 2]))).toEqual({ kind: 'raw' });
  });
});

describe('SM3 and SHA-512 banks (OneDigest placeholder banks)', () => {
  it('writer → parser → replay with sm3_256 and sha512', () => {
    const log = new Tcg2Log({ banks: ['sm3_256', 'sha512'] });
    const d = enc.encode('blob');
    log.append({ pcr: 18, type: SLAUNCH_EVTYPE.SLAUNCH, digests: { sm3_256: digest('sm3_256', d), sha512: digest('sha512', d) }, data: new Uint8Array(0) });
    const r = replayEventLog(parseEventLog(log.bytes()));
    expect(r.pcrs.sm3_256?.[18]).toEqual(extendValue('sm3_256', new Uint8Array(32), digest('sm3_256', d)));
    expect(r.pcrs.sha512?.[18]).toEqual(extendValue('sha512', new Uint8Array(64), digest('sha512', d)));
    expect(r.skippedAlgorithms).toEqual([]);
  });
});
