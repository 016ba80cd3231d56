/**
 * ParallelHasher: the digests of a stream hashed on worker threads equal node:crypto's, for every
 * bank, whatever the chunking and however many banks are hashed on the calling thread; small
 * streams stay inline; aborting frees the workers.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { ParallelHasher, closeHashPool } from '../../src/hash/parallel.js';
import type { BankName } from '../../src/hash/index.js';

afterAll(async () => closeHashPool());

const NODE: Record<BankName, string> = { sha1: 'sha1', sha256: 'sha256', sha384: 'sha384', sha512: 'sha512', sm3_256: 'sm3' };

function expected(bank: BankName, chunks: Uint8Array[]): string {
  const h = createHash(NODE[bank]);
  for (const c of chunks) h.update(c);
  return h.digest('hex');
}

async function run(banks: BankName[], chunks: Uint8Array[], inlineBytes: number, localBanks?: number): Promise<Map<BankName, Uint8Array>> {
  const p = new ParallelHasher(banks, { inlineBytes, maxInFlight: 64 * 1024, ...(localBanks === undefined ? {} : { localBanks }) });
  for (const c of chunks) await p.update(c);
  return p.digests();
}

describe('ParallelHasher', () => {
  it('equals node:crypto for all banks, random chunkings, inline and on workers', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uint8Array({ maxLength: 40_000 }), { maxLength: 12 }),
        fc.subarray(['sha1', 'sha256', 'sha384', 'sha512', 'sm3_256'] as BankName[], { minLength: 1 }),
        fc.constantFrom(0, 1, 50_000, 1 << 20),
        fc.constantFrom(undefined, 0, 1, 2, 5),
        async (chunks, banks, inlineBytes, localBanks) => {
          const got = await run(banks, chunks, inlineBytes, localBanks);
          for (const b of banks) expect(Buffer.from(got.get(b)!).toString('hex')).toBe(expected(b, chunks));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('applies backpressure: a fast producer never has more than maxInFlight bytes queued', async () => {
    const p = new ParallelHasher(['sha256'], { inlineBytes: 0, maxInFlight: 256 * 1024 });
    const chunk = new Uint8Array(64 * 1024).fill(3);
    const all: Uint8Array[] = [];
    for (let i = 0; i < 200; i++) {
      await p.update(chunk);
      all.push(chunk);
      expect((p as unknown as { inFlight: number }).inFlight).toBeLessThanOrEqual(256 * 1024 + chunk.length);
    }
    expect(Buffer.from((await p.digests()).get('sha256')!).toString('hex')).toBe(expected('sha256', all));
  });

  it('abort() frees the job and makes further updates fail', async () => {
    const p = new ParallelHasher(['sha1', 'sha256'], { inlineBytes: 0 });
    await p.update(new Uint8Array(1000));
    p.abort();
    // update() throws at once (it returns a promise only to make the caller wait for the workers).
    expect(() => p.update(new Uint8Array(10))).toThrow(/aborted/);
    // The pool still works for the next stream.
    const got = await run(['sha1'], [new Uint8Array(5000).fill(9)], 0);
    expect(Buffer.from(got.get('sha1')!).toString('hex')).toBe(expected('sha1', [new Uint8Array(5000).fill(9)]));
  });
});
