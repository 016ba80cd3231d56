import { describe, expect, it } from 'vitest';
import { u16le, u32le, u64le } from '../../src/bytes/index.js';
import { TPM_ALG, digest } from '../../src/hash/index.js';
import { EV, SLAUNCH_EVTYPE } from '../../src/eventlog/constants.js';
import { EVENT_LOG_POINTER2_1, Tcg2Log, oneDigest } from '../../src/eventlog/tcg2.js';

const enc = new TextEncoder();

describe('TCG2 crypto-agile writer (TCG PC Client PFP, as the Xen series writes it)', () => {
  it('writes a Spec ID Event03 header listing the banks', () => {
    const log = new Tcg2Log({ banks: ['sha1', 'sha256'] });
    const b = log.bytes();
    expect(u32le(b, 0)).toBe(0);
    expect(u32le(b, 4)).toBe(EV.NO_ACTION);
    expect(b.subarray(8, 28).every((x) => x === 0)).toBe(true);
    const size = u32le(b, 28);
    expect(b.length).toBe(32 + size);
    expect(new TextDecoder().decode(b.subarray(32, 48))).toBe('Spec ID Event03\0');
    expect([b[52], b[53], b[55]]).toEqual([0, 2, 2]);
    expect(u32le(b, 56)).toBe(2);
    expect([u16le(b, 60), u16le(b, 62), u16le(b, 64), u16le(b, 66)]).toEqual([TPM_ALG.SHA1, 20, TPM_ALG.SHA256, 32]);
    expect(b[68]).toBe(0);
    expect(log.headerSize).toBe(69 + 0);
  });

  it('appends TCG_PCR_EVENT2 records with digests in header order and the size formula', () => {
    const log = new Tcg2Log({ banks: ['sha256', 'sha1'], size: 4096 });
    const data = enc.encode('Measured MB2 module');
    const r = log.append({ pcr: 17, type: SLAUNCH_EVTYPE.SLAUNCH, digests: { sha1: digest('sha1', data), sha256: digest('sha256', data) }, data });
    expect(r).toEqual({ index: 0, offset: log.headerSize });
    const b = log.bytes();
    const o = log.headerSize;
    expect(b.length - o).toBe(12 + (2 + 32) + (2 + 20) + 4 + data.length);
    expect(log.entrySize(data.length)).toBe(b.length - o);
    expect(u32le(b, o + 8)).toBe(2);
    expect(u16le(b, o + 12)).toBe(TPM_ALG.SHA256);
    expect(u16le(b, o + 14 + 32)).toBe(TPM_ALG.SHA1);
  });

  it('refuses what does not fit and leaves the log unchanged', () => {
    const log = new Tcg2Log({ banks: ['sha1'], size: 100 });
    const before = log.bytes();
    expect(log.fits(100)).toBe(false);
    expect(log.append({ pcr: 18, type: 0x502, digests: [new Uint8Array(20)], data: new Uint8Array(100) })).toBeNull();
    expect(log.bytes()).toEqual(before);
  });

  it('requires every header bank digest with the right size', () => {
    const log = new Tcg2Log({ banks: ['sha1', 'sha384'] });
    expect(() => log.append({ pcr: 18, type: 0x502, digests: { sha1: new Uint8Array(20) }, data: new Uint8Array(0) })).toThrow(RangeError);
    expect(log.append({ pcr: 18, type: 0x502, digests: { sha1: new Uint8Array(20), sha384: oneDigest(48) }, data: new Uint8Array(0) })).not.toBeNull();
  });

  it('EVENT_LOG_POINTER2_1 describes the log as Xen sees it (tboot HEAP_EVENT_LOG_POINTER_ELEMENT2_1)', () => {
    const log = new Tcg2Log({ banks: ['sha1', 'sha256'], size: 32768 });
    log.append({ pcr: 18, type: 0x502, digests: [new Uint8Array(20), new Uint8Array(32)], data: new Uint8Array(0) });
    const p = log.pointer2_1({ physicalAddress: 0x12345000n });
    expect(p.bytes.length).toBe(EVENT_LOG_POINTER2_1.SIZE);
    expect(u64le(p.bytes, 0)).toBe(0x12345000n);
    expect(u32le(p.bytes, 8)).toBe(32768);
    expect(u32le(p.bytes, 12)).toBe(0);
    expect(u32le(p.bytes, 16)).toBe(log.bytes().length);
    expect(p).toMatchObject({ physicalAddress: 0x12345000n, allocatedEventContainerSize: 32768, firstRecordOffset: 0, nextRecordOffset: log.bytes().length });
  });

  it('JSON round trip is byte identical', () => {
    const log = new Tcg2Log({ banks: ['sha1', 'sha256', { algorithmId: 0x1234, digestSize: 16 }], vendorInfo: new Uint8Array([1, 2, 3]) });
    log.append({ pcr: 17, type: 0x502, digests: [new Uint8Array(20).fill(1), new Uint8Array(32).fill(2), new Uint8Array(16).fill(3)], data: enc.encode('x') });
    const back = Tcg2Log.fromJSON(JSON.parse(JSON.stringify(log.toJSON())) as ReturnType<Tcg2Log['toJSON']>);
    expect(back.bytes()).toEqual(log.bytes());
  });
});

describe('event type names (Intel TXT_EVTYPE_*, Secure Launch DLE_EVTYPE_*)', () => {
  it('names spec, TXT and Secure Launch types greppably', async () => {
    const { eventTypeName } = await import('../../src/eventlog/constants.js');
    expect(eventTypeName(EV.NO_ACTION)).toBe('EV_NO_ACTION');
    expect(eventTypeName(0x80000001)).toBe('EV_EFI_VARIABLE_DRIVER_CONFIG');
    expect(eventTypeName(0x402)).toBe('TXT_EVTYPE_HASH_START');
    expect(eventTypeName(0x405)).toBe('TXT_EVTYPE_0x00000405');
    expect(eventTypeName(0x4ff)).toBe('TXT_EVTYPE_CAP_VALUE');
    expect(eventTypeName(SLAUNCH_EVTYPE.SLAUNCH_END)).toBe('DLE_EVTYPE_SLAUNCH_END');
    expect(eventTypeName(0x12345678)).toBe('EV_UNKNOWN_0x12345678');
  });
});
