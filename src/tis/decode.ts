/**
 * Address decode, done once per access: offset (relative to 0xFED40000) → locality, the dword
 * register at `offset & 0xFFC`, and the byte shift `(offset & 3) × 8` (QEMU
 * `tpm_tis_mmio_read/write`).
 */
import { TIS_MMIO_SIZE } from './registers.js';

export type AccessSize = 1 | 2 | 4;

export function isAccessSize(n: unknown): n is AccessSize {
  return n === 1 || n === 2 || n === 4;
}

/** Mask of an access of `size` bytes, unshifted. */
export function sizeMask(size: AccessSize): number {
  return size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff;
}

/**
 * Why an access is not one a TIS decodes, or null if it is: the offset must lie in the 0x5000-byte
 * window and the access must stay inside one dword register (1-, 2- and 4-byte accesses at any
 * offset QEMU decodes without crossing a dword).
 */
export function accessProblem(offset: unknown, size: unknown): string | null {
  if (!isAccessSize(size)) return 'size must be 1, 2 or 4';
  if (typeof offset !== 'number' || !Number.isInteger(offset) || offset < 0 || offset >= TIS_MMIO_SIZE) {
    return `offset must be an integer in 0..0x${(TIS_MMIO_SIZE - 1).toString(16)}`;
  }
  if ((offset & 3) + size > 4) return 'access crosses a dword register boundary';
  return null;
}

/**
 * `accessProblem(offset, size) === null`, without building a message: the per-access test of
 * `TisDevice.read/write`, which then take locality `offset >>> 12`, register `offset & 0xFFC` and
 * shift `(offset & 3) × 8` inline (no object per access). `(offset >>> 0) === offset` holds exactly
 * for the non-negative integers below 2^32 (false for NaN, ±Infinity, fractions, non-numbers).
 */
export function isDecodedAccess(offset: unknown, size: unknown): size is AccessSize {
  return (
    (size === 1 || size === 2 || size === 4) &&
    typeof offset === 'number' &&
    offset >>> 0 === offset &&
    offset < TIS_MMIO_SIZE &&
    (offset & 3) + size <= 4
  );
}
