/** Timing helpers: bounded repetitions, medians. Nothing here asserts absolute times. */

export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/** A figure: the median of several repetitions, plus their spread. */
export interface Figure {
  value: number;
  unit: string;
  reps: number;
  min: number;
  max: number;
}

export function figure(samples: readonly number[], unit: string): Figure {
  return { value: median(samples), unit, reps: samples.length, min: Math.min(...samples), max: Math.max(...samples) };
}

/**
 * Run `units` of work repeatedly until `maxUnits` or `budgetMs` is reached (whichever first, at
 * least one unit); returns units per second. `step` does one unit and may be async.
 */
export async function ratePerSecond(step: () => unknown, maxUnits: number, budgetMs: number): Promise<{ rate: number; units: number; ms: number }> {
  const t0 = nowMs();
  let units = 0;
  let ms = 0;
  while (units < maxUnits && (units === 0 || ms < budgetMs)) {
    const r = step();
    if (r instanceof Promise) await r;
    units++;
    ms = nowMs() - t0;
  }
  return { rate: (units * 1000) / ms, units, ms };
}

/** Time one async run in milliseconds. */
export async function timeMs(fn: () => Promise<unknown> | unknown): Promise<number> {
  const t0 = nowMs();
  const r = fn();
  if (r instanceof Promise) await r;
  return nowMs() - t0;
}

/**
 * Interleave repetitions of several measurements (A B C A B C …) so that noise on a shared machine
 * hits all of them alike. A null entry is skipped (peer unavailable). Stops after `reps` rounds or
 * once `budgetMs` is spent (after at least 3 rounds, or 1 if one round already takes twice the budget).
 */
export async function interleaved(reps: number, budgetMs: number, runs: ReadonlyArray<(() => Promise<number>) | null>): Promise<number[][]> {
  const out = runs.map(() => [] as number[]);
  const t0 = nowMs();
  for (let i = 0; i < reps; i++) {
    for (let k = 0; k < runs.length; k++) {
      const run = runs[k];
      if (run) (out[k] as number[]).push(await run());
    }
    const spent = nowMs() - t0;
    if (spent > budgetMs && (i >= 2 || spent > budgetMs * 2)) break;
  }
  return out;
}

export const MiB = 1024 * 1024;

/**
 * Median of the per-repetition ratios a[i] / b[i] (pairs measured back to back), which cancels
 * slow drifts in machine load better than the ratio of the two medians.
 */
export function pairedRatio(a: readonly number[], b: readonly number[]): number | null {
  const n = Math.min(a.length, b.length);
  if (n === 0) return null;
  const r: number[] = [];
  for (let i = 0; i < n; i++) r.push((a[i] as number) / (b[i] as number));
  return median(r);
}
