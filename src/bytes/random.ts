/**
 * Cryptographically strong random bytes, drawn from a block refilled with node:crypto
 * randomFillSync 4 KiB at a time (as Node pools them for crypto.randomUUID): one call into
 * OpenSSL per 4 KiB instead of one per session id or TPM proof. Every byte is handed out once.
 */
import { randomFillSync } from 'node:crypto';

const POOL_BYTES = 4096;
const pool = Buffer.alloc(POOL_BYTES);
let used = POOL_BYTES;

/** `n` fresh random bytes in a new Buffer (n ≤ 4096; larger requests are filled directly). */
export function randomBytesPooled(n: number): Buffer {
  if (n > POOL_BYTES) return randomFillSync(Buffer.alloc(n));
  if (used + n > POOL_BYTES) {
    randomFillSync(pool);
    used = 0;
  }
  const out = Buffer.from(pool.subarray(used, used + n)); // a copy: the pool is overwritten on refill
  pool.fill(0, used, used + n);
  used += n;
  return out;
}
