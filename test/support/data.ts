/** Deterministic test blobs: `n` pseudo-random bytes from `seed` (a 32-bit LCG). */
export function blob(n: number, seed = 1): Buffer {
  const b = Buffer.alloc(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (x * 1664525 + 1013904223) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}
