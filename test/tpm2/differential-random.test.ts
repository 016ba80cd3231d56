/**
 * Differential random suite: seeded command streams sent to the engine and to swtpm 0.7.1
 * (libtpms 0.9.2), every response compared byte for byte (swtpm is the truth).
 * Seeds run on several PCR allocations, set up on both sides by PCR_Allocate + Shutdown + init
 * + Startup. Only banks swtpm has are used (libtpms 0.9.2 has no SM3).
 */
import { afterAll, expect, it } from 'vitest';
import { describeWithSwtpm } from '../support/swtpm.js';
import { ALG, Gen, randomOps } from './support/gen.js';
import type { Sel } from './support/cmd.js';
import { Pair } from './support/pair.js';

const SEEDS = Number(process.env.TPM2_DIFF_SEEDS ?? 32);
const STEPS = Number(process.env.TPM2_DIFF_STEPS ?? 300);
const ALL: number[] = Array.from({ length: 24 }, (_, i) => i);

/** Allocations cycled over seeds. null = the fresh default (all four banks). */
const ALLOCATIONS: { name: string; sels: Sel[] | null }[] = [
  { name: 'default (sha1+sha256+sha384+sha512)', sels: null },
  { name: 'sha256 only', sels: [{ hash: ALG.SHA1, bits: [] }, { hash: ALG.SHA256, bits: ALL }, { hash: ALG.SHA384, bits: [] }, { hash: ALG.SHA512, bits: [] }] },
  { name: 'sha1+sha256', sels: [{ hash: ALG.SHA1, bits: ALL }, { hash: ALG.SHA256, bits: ALL }, { hash: ALG.SHA384, bits: [] }, { hash: ALG.SHA512, bits: [] }] },
  { name: 'partial (sha1 0-16, sha384 17-23, sha512 all, no sha256)', sels: [{ hash: ALG.SHA1, bits: ALL.slice(0, 17) }, { hash: ALG.SHA256, bits: [] }, { hash: ALG.SHA384, bits: ALL.slice(17) }] },
];

let total = 0;
afterAll(() => {
  console.log(`[tpm2 differential] ${SEEDS} seeds × ${STEPS} steps: ${total} responses compared byte for byte with swtpm`);
});

describeWithSwtpm('TPM 2.0 engine vs swtpm — random streams', () => {
  for (let seed = 1; seed <= SEEDS; seed++) {
    const alloc = ALLOCATIONS[(seed - 1) % ALLOCATIONS.length] ?? { name: 'default', sels: null };
    it(`seed ${seed}, ${STEPS} steps, allocation ${alloc.name}`, async () => {
      const pair = await Pair.start();
      try {
        if (alloc.sels) await pair.reallocate(alloc.sels);
        const g = new Gen(seed * 7919);
        for (let i = 0; i < STEPS; i++) for (const op of randomOps(g)) await pair.apply(op);
        total += pair.compared;
        if (pair.mismatches.length) console.log(pair.report(seed));
        expect(pair.mismatches.length, pair.report(seed)).toBe(0);
      } finally {
        await pair.stop();
      }
    });
  }
});
