import { describe, expect, it } from 'vitest';
import { concatBytes, putU16le, putU32le, u32le } from '../../src/bytes/index.js';
import { EventLogParseError } from '../../src/eventlog/errors.js';
import { DEFAULT_PARSE_LIMITS } from '../../src/eventlog/limits.js';
import { parseEventLog, type ParseOptions } from '../../src/eventlog/parse.js';
import { replayEventLog } from '../../src/eventlog/replay.js';
import { Tcg2Log } from '../../src/eventlog/tcg2.js';
import { TxtContainerLog } from '../../src/eventlog/txt-container.js';
import { loadVectors } from './vectors.js';

const vectors = loadVectors();
const vec = (name: string): Uint8Array => {
  const v = vectors.find((x) => x.name === name);
  if (!v) throw new Error(`no vector ${name}`);
  return v.bytes.slice();
};

/** A small two-bank TCG2 log with one record; offsets of its fields. */
function smallAgile(): { bytes: Uint8Array; rec: number } {
  const log = new Tcg2Log({ banks: ['sha1', 'sha256'] });
  log.append({ pcr: 4, type: 0x80000007, digests: [new Uint8Array(20).fill(1), new Uint8Array(32).fill(2)], data: new Uint8Array([0x41, 0x42, 0x43]) });
  return { bytes: log.bytes(), rec: log.headerSize };
}

function mutate(f: (b: Uint8Array, rec: number) => Uint8Array | void): Uint8Array {
  const { bytes, rec } = smallAgile();
  return f(bytes, rec) ?? bytes;
}

const rows: [string, Uint8Array, ParseOptions?][] = [
  ['empty input', new Uint8Array(0)],
  ['agile header truncated', vec('tpm2tools-event').subarray(0, 40)],
  ['agile record truncated mid-digest', mutate((b, r) => b.subarray(0, r + 20))],
  ['agile eventSize 0xFFFFFFFF (over cap)', mutate((b, r) => putU32le(b, r + 12 + 22 + 34, 0xffffffff))],
  ['agile eventSize past the end (under cap)', mutate((b, r) => putU32le(b, r + 12 + 22 + 34, 1000))],
  ['agile digests.count absurd', mutate((b, r) => putU32le(b, r + 8, 0x7fffffff))],
  ['agile digests.count above header algorithms', mutate((b, r) => putU32le(b, r + 8, 3))],
  ['agile hashAlg not in header', mutate((b, r) => putU16le(b, r + 12, 0x0012))],
  ['agile hashAlg twice in a record', mutate((b, r) => putU16le(b, r + 12 + 22, 0x0004))],
  ['Spec ID numberOfAlgorithms absurd', mutate((b) => putU32le(b, 56, 0xffffffff))],
  ['Spec ID numberOfAlgorithms zero', mutate((b) => putU32le(b, 56, 0))],
  ['Spec ID digestSize lies about SHA-256', mutate((b) => putU16le(b, 66, 20))],
  ['Spec ID digestSize absurd for unknown alg', mutate((b) => { putU16le(b, 64, 0x7777); putU16le(b, 66, 0xffff); })],
  ['Spec ID vendorInfoSize past the end', vec('tpm2tools-specid-vendordata').subarray(0, 70)],
  ['trailing garbage after the last record', mutate((b) => concatBytes(b, new Uint8Array([1, 2, 3])))],
  ['maxLogBytes exceeded', vec('tpm2tools-event'), { limits: { maxLogBytes: 100 } }],
  ['maxEvents exceeded', vec('gotpmtools-gdc-host'), { limits: { maxEvents: 10 } }],
  ['maxEventDataSize exceeded', vec('gotpmtools-gdc-host'), { limits: { maxEventDataSize: 64 } }],
  ['maxDigestsPerRecord exceeded', vec('tpm2tools-event'), { limits: { maxDigestsPerRecord: 2 } }],
  ['forced agile on a TPM 1.2 log', vec('gotpmtools-debian-10'), { format: 'tcg2-agile' }],
  ['forced txt-container on an agile log', vec('tpm2tools-event'), { format: 'txt-container' }],
  ['tpm12 record truncated', vec('gotpmtools-debian-10').subarray(0, 100)],
  [
    'container NextEventOffset past the end',
    (() => { const b = new TxtContainerLog({ size: 64 }).bytes(); putU32le(b, 44, 1 << 30); return b; })(),
  ],
  [
    'container PCREventsOffset inside the header',
    (() => { const b = new TxtContainerLog({ size: 64 }).bytes(); putU32le(b, 40, 8); return b; })(),
  ],
  [
    'container event Size past NextEventOffset',
    (() => {
      const c = new TxtContainerLog({ size: 256 });
      c.append({ pcr: 17, type: 0x502, digest: new Uint8Array(20), data: new Uint8Array(8) });
      const b = c.bytes();
      putU32le(b, 48 + 28, 200);
      return b;
    })(),
  ],
  ['container header truncated', new TxtContainerLog({ size: 64 }).bytes().subarray(0, 30), { format: 'txt-container' }],
];

describe('hostile input → EventLogParseError with offset and record index', () => {
  it.each(rows)('%s', (_name, bytes, opts) => {
    let err: unknown;
    try {
      parseEventLog(bytes, opts);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(EventLogParseError);
    const e = err as EventLogParseError;
    expect(e.code).toBe('EVENTLOG_PARSE');
    expect(Number.isInteger(e.offset) && e.offset >= 0 && e.offset <= Math.max(bytes.length, 1 << 30)).toBe(true);
    expect(e.recordIndex).toBeGreaterThanOrEqual(-1);
    expect(e.message.length).toBeGreaterThan(10);
  });

  it('reports the record index and offset of the failing field', () => {
    const { bytes, rec } = smallAgile();
    putU32le(bytes, rec + 8, 0x7fffffff);
    try {
      parseEventLog(bytes);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(EventLogParseError);
      expect((e as EventLogParseError).recordIndex).toBe(1);
      expect((e as EventLogParseError).offset).toBe(rec + 8);
    }
  });

  it('exports documented defaults', () => {
    expect(DEFAULT_PARSE_LIMITS).toEqual({ maxLogBytes: 16 * 1024 * 1024, maxEvents: 65536, maxEventDataSize: 4 * 1024 * 1024, maxDigestsPerRecord: 16, maxDigestSize: 128 });
    expect(Object.isFrozen(DEFAULT_PARSE_LIMITS)).toBe(true);
  });

  it('accepts an unknown algorithm in the header when its size is given, and does not replay it', () => {
    const log = new Tcg2Log({ banks: ['sha256', { algorithmId: 0x7777, digestSize: 24 }] });
    log.append({ pcr: 3, type: 0x80000007, digests: [new Uint8Array(32).fill(5), new Uint8Array(24).fill(6)], data: new Uint8Array(0) });
    const p = parseEventLog(log.bytes());
    expect(p.events[1]?.digests.map((d) => [d.algorithmId, d.bank, d.digest.length])).toEqual([[0x000b, 'sha256', 32], [0x7777, null, 24]]);
    expect(u32le(log.bytes(), 56)).toBe(2);
    expect(replayEventLog(p).skippedAlgorithms).toEqual([0x7777]);
    expect(Object.keys(replayEventLog(p).pcrs)).toEqual(['sha256']);
  });
});
