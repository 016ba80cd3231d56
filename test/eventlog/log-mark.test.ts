/** Logs undo to a mark in O(what changed): appended records and overwritten digests both come back. */
import { describe, expect, it } from 'vitest';
import { TxtContainerLog } from '../../src/eventlog/txt-container.js';
import { Tcg2Log } from '../../src/eventlog/tcg2.js';

const d20 = (b: number): Uint8Array => new Uint8Array(20).fill(b);
const d32 = (b: number): Uint8Array => new Uint8Array(32).fill(b);

describe('log marks', () => {
  it('TXT container: appends (including a buffer growth) and setDigest are undone; JSON and bytes as before', () => {
    const log = new TxtContainerLog({ size: 65536 });
    for (let i = 0; i < 3; i++) log.append({ pcr: 17, type: 0x502, digest: d20(i), data: new Uint8Array(10) });
    const bytes = log.bytes();
    const json = JSON.stringify(log.toJSON());
    const undo = log.mark().undo;
    log.setDigest(1, d20(0xee));
    for (let i = 0; i < 5; i++) log.append({ pcr: 18, type: 0x502, digest: d20(9), data: new Uint8Array(2000) });
    log.setDigest(4, d20(0xdd));
    undo();
    expect(log.bytes()).toEqual(bytes);
    expect(JSON.stringify(log.toJSON())).toBe(json);
    expect(log.nextEventOffset).toBe(48 + 3 * (32 + 10));
  });

  it('TCG2 log: appends and setDigest are undone; released changes stay', () => {
    const log = new Tcg2Log({ banks: ['sha1', 'sha256'], size: 65536 });
    log.append({ pcr: 17, type: 0x502, digests: { sha1: d20(1), sha256: d32(1) }, data: new Uint8Array(4) });
    const bytes = log.bytes();
    const undo = log.mark().undo;
    log.setDigest(0, 'sha256', d32(0xee));
    log.append({ pcr: 18, type: 0x502, digests: { sha1: d20(2), sha256: d32(2) }, data: new Uint8Array(4) });
    undo();
    expect(log.bytes()).toEqual(bytes);
    expect(log.events()).toHaveLength(1);
    log.mark();
    log.append({ pcr: 18, type: 0x502, digests: { sha1: d20(3), sha256: d32(3) }, data: new Uint8Array(4) });
    log.release();
    expect(log.events()).toHaveLength(2);
  });
});
