/**
 * Differential random suite: seeded mixed TPM 1.2 streams (extends/reads/resets at every locality,
 * SHA-1 thread with good and bad sizes, GetCapability, unknown ordinals, malformed headers,
 * dynamic launches, TPM_Init/Startup) on the engine and on swtpm, compared response by response.
 * GetRandom answers are compared by header and size only. A mismatch names seed, step, command
 * and both responses; the total count of compared outcomes is printed.
 */
import { afterAll, expect, it } from 'vitest';
import { createTpm12 } from '../../src/tpm12/index.js';
import { Swtpm, describeWithSwtpm } from '../support/swtpm.js';
import { SwtpmDriver, runDifferential } from './support/differential.js';
import { randomStream } from './support/random-steps.js';

/** TPM12_DIFF_SEEDS / TPM12_DIFF_STEPS / TPM12_DIFF_BASE widen the run for a local soak. */
const SEED_COUNT = Number(process.env.TPM12_DIFF_SEEDS ?? 24);
const STEPS = Number(process.env.TPM12_DIFF_STEPS ?? 200);
const BASE = Number(process.env.TPM12_DIFF_BASE ?? 0x5eed0000);
const SEEDS = Array.from({ length: SEED_COUNT }, (_, i) => (BASE + i * 7919) >>> 0);

describeWithSwtpm('TPM 1.2 differential random streams vs swtpm', () => {
  let compared = 0;
  const mismatchedSeeds: string[] = [];
  afterAll(() => {
    console.log(
      `tpm12 differential: ${SEEDS.length} seeds × ${STEPS} steps, ${compared} responses compared, ` +
        `${mismatchedSeeds.length} mismatches${mismatchedSeeds.length ? ` (seeds ${mismatchedSeeds.join(', ')})` : ''}`,
    );
  });
  for (const seed of SEEDS) {
    it(`seed 0x${seed.toString(16)}`, async () => {
      const startupClear = seed % 5 !== 0;
      const peer = await Swtpm.start({ startupClear });
      try {
        const engine = createTpm12({ startup: startupClear });
        const steps = randomStream(seed, STEPS);
        try {
          compared += await runDifferential(`seed 0x${seed.toString(16)}`, engine, new SwtpmDriver(peer), steps);
        } catch (e) {
          mismatchedSeeds.push(`0x${seed.toString(16)}`);
          throw e;
        }
        expect(compared).toBeGreaterThan(0);
      } finally {
        await peer.stop();
      }
    });
  }
});
