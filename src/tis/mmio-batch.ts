/**
 * MMIO batch executor for the HTTP layer: a list of register operations validated as a whole,
 * then applied in order to one device. On an exception mid-way the register state is restored from
 * a snapshot taken before the first op; the TPM-side effects of commands that already ran are undone
 * by the caller's transaction (`Session.transact` rolls the whole session back).
 */
import { accessProblem, sizeMask, type AccessSize } from './decode.js';
import type { TisDevice } from './device.js';

/** Caps that keep one batch bounded. */
export const MMIO_BATCH_LIMITS = {
  /** Operations per batch. */
  MAX_OPS: 4096,
  /** `maxReads` of a poll op. */
  MAX_POLL_READS: 10_000,
  /** Bytes of one writeBytes / readBytes op. */
  MAX_BYTES: 65_536,
  /** Register accesses a whole batch may perform (poll reads + bytes + single accesses). */
  MAX_ACCESSES: 1_000_000,
} as const;

export type MmioOp =
  | { op: 'write'; offset: number; size: AccessSize; value: number }
  | { op: 'read'; offset: number; size: AccessSize }
  | { op: 'poll'; offset: number; size: AccessSize; mask: number; value: number; maxReads: number }
  | { op: 'writeBytes'; offset: number; data: Uint8Array }
  | { op: 'readBytes'; offset: number; count: number };

export type MmioResult = { value: number } | { value: number; reads: number; matched: boolean } | { data: Uint8Array } | Record<string, never>;

export class MmioValidationError extends Error {
  readonly code = 'MMIO_INVALID_OP';
  constructor(
    readonly index: number,
    readonly field: string,
    message: string,
  ) {
    super(`op ${index}: ${field}: ${message}`);
    this.name = 'MmioValidationError';
  }
}

function fail(i: number, field: string, msg: string): never {
  throw new MmioValidationError(i, field, msg);
}

function checkAccess(i: number, offset: unknown, size: unknown): void {
  const p = accessProblem(offset, size);
  if (p !== null) fail(i, typeof size === 'number' && [1, 2, 4].includes(size) ? 'offset' : 'size', p);
}

function checkValue(i: number, field: string, v: unknown, size: AccessSize): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > sizeMask(size)) {
    fail(i, field, `must be an integer in 0..0x${sizeMask(size).toString(16)}`);
  }
}

function checkCount(i: number, field: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) fail(i, field, `must be an integer in ${min}..${max}`);
  return v;
}

/** Validate one op; returns the register accesses it will perform. */
function validateOp(i: number, raw: unknown): number {
  if (typeof raw !== 'object' || raw === null) fail(i, 'op', 'must be an object');
  const o = raw as Record<string, unknown>;
  switch (o.op) {
    case 'write':
      checkAccess(i, o.offset, o.size);
      checkValue(i, 'value', o.value, o.size as AccessSize);
      return 1;
    case 'read':
      checkAccess(i, o.offset, o.size);
      return 1;
    case 'poll':
      checkAccess(i, o.offset, o.size);
      checkValue(i, 'mask', o.mask, o.size as AccessSize);
      checkValue(i, 'value', o.value, o.size as AccessSize);
      return checkCount(i, 'maxReads', o.maxReads, 1, MMIO_BATCH_LIMITS.MAX_POLL_READS);
    case 'writeBytes':
      checkAccess(i, o.offset, 1);
      if (!(o.data instanceof Uint8Array)) fail(i, 'data', 'must be bytes');
      if (o.data.length > MMIO_BATCH_LIMITS.MAX_BYTES) fail(i, 'data', `at most ${MMIO_BATCH_LIMITS.MAX_BYTES} bytes`);
      return o.data.length;
    case 'readBytes':
      checkAccess(i, o.offset, 1);
      return checkCount(i, 'count', o.count, 0, MMIO_BATCH_LIMITS.MAX_BYTES);
    default:
      return fail(i, 'op', 'must be one of write, read, poll, writeBytes, readBytes');
  }
}

/** Throws MmioValidationError for the first bad op; nothing is applied. */
export function validateMmioBatch(ops: unknown): asserts ops is MmioOp[] {
  if (!Array.isArray(ops)) fail(-1, 'ops', 'must be an array');
  if (ops.length > MMIO_BATCH_LIMITS.MAX_OPS) fail(-1, 'ops', `at most ${MMIO_BATCH_LIMITS.MAX_OPS} operations`);
  let accesses = 0;
  ops.forEach((op, i) => {
    accesses += validateOp(i, op);
  });
  if (accesses > MMIO_BATCH_LIMITS.MAX_ACCESSES) fail(-1, 'ops', `at most ${MMIO_BATCH_LIMITS.MAX_ACCESSES} register accesses`);
}

function applyOp(device: TisDevice, op: MmioOp): MmioResult {
  switch (op.op) {
    case 'write':
      device.write(op.offset, op.size, op.value);
      return {};
    case 'read':
      return { value: device.read(op.offset, op.size) };
    case 'poll': {
      let value = 0;
      for (let reads = 1; reads <= op.maxReads; reads++) {
        value = device.read(op.offset, op.size);
        if (((value & op.mask) >>> 0) === op.value) return { value, reads, matched: true };
      }
      return { value, reads: op.maxReads, matched: false };
    }
    case 'writeBytes':
      device.writeBytes(op.offset, op.data);
      return {};
    case 'readBytes':
      return { data: device.readBytes(op.offset, op.count) };
  }
}

/** Validate every op, then apply them in order; all-or-nothing for the register state. */
export function runMmioBatch(device: TisDevice, ops: readonly unknown[]): MmioResult[] {
  validateMmioBatch(ops);
  const before = device.snapshot();
  const results: MmioResult[] = [];
  try {
    for (const op of ops) results.push(applyOp(device, op));
  } catch (e) {
    device.restore(before);
    throw e;
  }
  return results;
}
