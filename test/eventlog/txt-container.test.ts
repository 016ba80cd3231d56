import { describe, expect, it } from 'vitest';
import { u32le } from '../../src/bytes/index.js';
import { sha1 } from '../../src/hash/index.js';
import { SLAUNCH_EVTYPE } from '../../src/eventlog/constants.js';
import { EventLogParseError } from '../../src/eventlog/errors.js';
import { TPM12_PCR_EVENT, TXT_CONTAINER, TxtContainerLog, decodeTxtContainer } from '../../src/eventlog/txt-container.js';

const enc = new TextEncoder();

describe('TXT event container writer (tboot event_log_container_t)', () => {
  it('writes the 48-byte header exactly', () => {
    const log = new TxtContainerLog({ size: 32768 });
    const b = log.bytes();
    expect(b.length).toBe(32768);
    expect(new TextDecoder().decode(b.subarray(0, 20))).toBe('TXT Event Container\0');
    expect([...b.subarray(20, 32)]).toEqual(new Array(12).fill(0));
    expect([...b.subarray(32, 36)]).toEqual([1, 0, 1, 0]);
    expect(u32le(b, TXT_CONTAINER.OFF_CONTAINER_SIZE)).toBe(32768);
    expect(u32le(b, TXT_CONTAINER.OFF_PCR_EVENTS_OFFSET)).toBe(48);
    expect(u32le(b, TXT_CONTAINER.OFF_NEXT_EVENT_OFFSET)).toBe(48);
    expect(b.subarray(48).every((x) => x === 0)).toBe(true);
  });

  it('defaults to 32768 bytes', () => {
    expect(new TxtContainerLog().bytes().length).toBe(TXT_CONTAINER.DEFAULT_SIZE);
  });

  it('packs events back to back and advances NextEventOffset', () => {
    const log = new TxtContainerLog({ size: 4096 });
    const mbi = enc.encode('mbi');
    const r0 = log.append({ pcr: 18, type: SLAUNCH_EVTYPE.SLAUNCH, digest: sha1(mbi), data: new Uint8Array(0) });
    const info = enc.encode('Measured MB2 module');
    const r1 = log.append({ pcr: 17, type: SLAUNCH_EVTYPE.SLAUNCH, digest: sha1(info), data: info });
    expect(r0).toEqual({ index: 0, offset: 48 });
    expect(r1).toEqual({ index: 1, offset: 48 + 32 });
    const b = log.bytes();
    expect(u32le(b, TXT_CONTAINER.OFF_NEXT_EVENT_OFFSET)).toBe(48 + 32 + 32 + info.length);
    expect(u32le(b, 80 + TPM12_PCR_EVENT.OFF_PCR_INDEX)).toBe(17);
    expect(u32le(b, 80 + TPM12_PCR_EVENT.OFF_TYPE)).toBe(0x502);
    expect([...b.subarray(80 + 8, 80 + 28)]).toEqual([...sha1(info)]);
    expect(u32le(b, 80 + TPM12_PCR_EVENT.OFF_SIZE)).toBe(info.length);
    expect(new TextDecoder().decode(b.subarray(112, 112 + info.length))).toBe('Measured MB2 module');
    const dec = decodeTxtContainer(b);
    expect(dec.events.map((e) => [e.pcr, e.type, e.offset, e.data.length])).toEqual([
      [18, 0x502, 48, 0],
      [17, 0x502, 80, info.length],
    ]);
    expect(log.events()).toEqual(dec.events);
  });

  it('refuses an entry that does not fit and keeps accepting smaller ones (the log gap)', () => {
    const log = new TxtContainerLog({ size: 48 + 32 + 10 + 32 });
    const d = new Uint8Array(20);
    expect(log.fits(10)).toBe(true);
    expect(log.append({ pcr: 17, type: 0x502, digest: d, data: new Uint8Array(10) })).not.toBeNull();
    expect(log.fits(1)).toBe(false);
    expect(log.append({ pcr: 17, type: 0x502, digest: d, data: new Uint8Array(1) })).toBeNull();
    expect(log.nextEventOffset).toBe(90);
    expect(u32le(log.bytes(), 44)).toBe(90);
    expect(log.append({ pcr: 18, type: 0x502, digest: d, data: new Uint8Array(0) })).toEqual({ index: 1, offset: 90 });
    expect(log.append({ pcr: 18, type: 0x502, digest: d, data: new Uint8Array(0) })).toBeNull();
  });

  it('rejects a digest that is not 20 bytes', () => {
    expect(() => new TxtContainerLog().append({ pcr: 17, type: 0x502, digest: new Uint8Array(32), data: new Uint8Array(0) })).toThrow(RangeError);
  });

  it('JSON round trip is byte identical', () => {
    const log = new TxtContainerLog({ size: 8192, containerSize: 5 * 4096 });
    log.append({ pcr: 17, type: 0x402, digest: sha1(enc.encode('a')), data: enc.encode('abc') });
    log.append({ pcr: 18, type: 0x502, digest: sha1(enc.encode('b')), data: new Uint8Array(0) });
    const snap = JSON.parse(JSON.stringify(log.toJSON())) as ReturnType<TxtContainerLog['toJSON']>;
    const back = TxtContainerLog.fromJSON(snap);
    expect(back.bytes()).toEqual(log.bytes());
    expect(u32le(back.bytes(), 36)).toBe(5 * 4096);
  });

  it('decoder rejects a lying NextEventOffset with EventLogParseError', () => {
    const b = new TxtContainerLog({ size: 64 }).bytes();
    b[44] = 0xff;
    expect(() => decodeTxtContainer(b)).toThrow(EventLogParseError);
  });
});
