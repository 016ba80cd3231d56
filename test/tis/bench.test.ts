/** bench/tis-fifo.ts stays runnable (tiny bounded run; the numbers themselves are not asserted). */
import { expect, it } from 'vitest';
import { benchTisFifo } from '../../bench/tis-fifo.js';

it('benchTisFifo runs bounded and reports positive rates', async () => {
  const r = await benchTisFifo({ blobBytes: 4096, maxIterations: 2, budgetMs: 200 });
  expect(r.fifoMiBps).toBeGreaterThan(0);
  expect(r.directMiBps).toBeGreaterThan(0);
  expect(r.carefulMiBps).toBeGreaterThan(0);
  expect(r.iterations.fifo).toBeLessThanOrEqual(2);
});
