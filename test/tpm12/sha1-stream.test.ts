import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/bytes/index.js';
import { Sha1Stream } from '../../src/tpm12/index.js';

const nodeSha1 = (b: Uint8Array): string => createHash('sha1').update(b).digest('hex');

describe('Sha1Stream: resumable SHA-1 for the thread and HASH_START contexts (Part 3 §13, libtpms sha1_context_tis)', () => {
  it.each([
    ['empty', '', 'da39a3ee5e6b4b0d3255bfef95601890afd80709'],
    ['abc', '616263', 'a9993e364706816aba3e25717850c26c9cd0d89d'],
  ])('known vector: %s', (_name, input, expected) => {
    expect(toHex(new Sha1Stream().update(Uint8Array.from(Buffer.from(input, 'hex'))).digest())).toBe(expected);
  });

  it('agrees with node:crypto for any data split into any chunks, across snapshot/restore', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.array(fc.nat(200), { maxLength: 8 }), (data, cuts) => {
        let s = new Sha1Stream();
        let off = 0;
        for (const cut of cuts) {
          const end = Math.min(data.length, off + cut);
          s.update(data.subarray(off, end));
          off = end;
          s = Sha1Stream.restore(JSON.parse(JSON.stringify(s.snapshot())));
        }
        s.update(data.subarray(off));
        expect(toHex(s.digest())).toBe(nodeSha1(data));
      }),
      { numRuns: 300 },
    );
  });

  it('digest() leaves the stream usable', () => {
    const s = new Sha1Stream().update(new Uint8Array(70));
    s.digest();
    s.update(new Uint8Array(10));
    expect(toHex(s.digest())).toBe(nodeSha1(new Uint8Array(80)));
  });

  it.each([
    ['short chaining value', { h: '00', pending: '', length: 0 }],
    ['pending block too long', { h: '00'.repeat(20), pending: '00'.repeat(64), length: 64 }],
    ['negative length', { h: '00'.repeat(20), pending: '', length: -1 }],
    ['not hex', { h: 'zz'.repeat(20), pending: '', length: 0 }],
  ])('restore rejects a bad snapshot: %s', (_name, snap) => {
    expect(() => Sha1Stream.restore(snap)).toThrow();
  });
});
