import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { finalDigest, initialState, updateState } from '../../src/hash/resumable.js';
import { mustAlg, type BankName } from '../../src/hash/index.js';
import { createTpm2 } from '../../src/tpm2/index.js';

const BANKS: BankName[] = ['sha1', 'sha256', 'sha384', 'sha512', 'sm3_256'];

describe('resumable hashes (midstate as bytes)', () => {
  it('any chunking, resumed through save/load bytes, gives node:crypto’s digest', () => {
    fc.assert(
      fc.property(fc.constantFrom(...BANKS), fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 8 }), (bank, chunks) => {
        let state = initialState(bank);
        for (const c of chunks) state = updateState(bank, Uint8Array.from(state), c);
        const h = createHash(mustAlg(bank).nodeName);
        for (const c of chunks) h.update(c);
        expect(Buffer.from(finalDigest(bank, state)).toString('hex')).toBe(h.digest('hex'));
      }),
      { numRuns: 200 },
    );
  });

  it('a TPM 2.0 snapshot does not grow with what a sequence was fed', () => {
    const tpm = createTpm2({ startup: true, banks: ['sha256'] });
    // HashSequenceStart(auth = empty, hashAlg = TPM_ALG_NULL): an event sequence.
    const rsp = tpm.execute(Uint8Array.from([0x80, 0x01, 0, 0, 0, 0x0e, 0, 0, 0x01, 0x86, 0, 0, 0, 0x10]), 0);
    const handle = Buffer.from(rsp).readUInt32BE(10);
    const sizeAfter = (): number => JSON.stringify(tpm.snapshot()).length;
    const before = sizeAfter();
    const chunk = new Uint8Array(1024).fill(0x5a);
    for (let i = 0; i < 64; i++) {
      // SequenceUpdate(handle) with a password session (TPM_RS_PW, empty auth) and a 1 KiB buffer.
      const body = Buffer.alloc(4 + 4 + 9 + 2 + chunk.length);
      body.writeUInt32BE(handle, 0);
      body.writeUInt32BE(9, 4);
      body.writeUInt32BE(0x40000009, 8);
      body.writeUInt16BE(0, 12);
      body.writeUInt8(0, 14);
      body.writeUInt16BE(0, 15);
      body.writeUInt16BE(chunk.length, 17);
      body.set(chunk, 19);
      const cmd = Buffer.alloc(10 + body.length);
      cmd.writeUInt16BE(0x8002, 0);
      cmd.writeUInt32BE(cmd.length, 2);
      cmd.writeUInt32BE(0x15c, 6);
      body.copy(cmd, 10);
      expect(Buffer.from(tpm.execute(cmd, 0)).readUInt32BE(6)).toBe(0);
    }
    expect(sizeAfter()).toBe(before);
  });
});
