/**
 * Snapshot / restore of the TIS register state (not of the engine: `TpmEngine` exposes
 * `snapshot()` but no restore, so TPM-side effects are out of reach here).
 */
import { fromHex, toHex } from '../bytes/index.js';
import { isLocality, type Locality } from '../tpm/engine.js';
import { TIS_PROFILES } from './registers.js';
import { cloneLocalityRegs, isLocalityRegsArray, type TisContext, type TisSnapshot } from './state.js';

export class TisSnapshotError extends Error {
  readonly code = 'TIS_SNAPSHOT_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'TisSnapshotError';
  }
}

export function takeSnapshot(ctx: TisContext, profile: TisSnapshot['profile']): TisSnapshot {
  const c = ctx.core;
  const used = Math.max(c.rwOffset, c.respLen);
  return {
    version: 1,
    profile,
    active: c.active,
    loc: c.loc.map(cloneLocalityRegs),
    buffer: used === 0 ? '' : toHex(c.buffer.subarray(0, used)),
    rwOffset: c.rwOffset,
    respLen: c.respLen,
    pending: c.pending === null ? null : toHex(c.pending),
    cmdLocality: c.cmdLocality,
    execReadsLeft: c.execReadsLeft,
    intfSelLock: c.intfSelLock,
  };
}

function optLocality(v: unknown): v is Locality | null {
  return v === null || (typeof v === 'number' && isLocality(v));
}

function intIn(v: unknown, max: number): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= max;
}

/** Validate a snapshot (it may come from a durable store) and load it into `ctx`. */
export function restoreSnapshot(ctx: TisContext, profile: TisSnapshot['profile'], snap: unknown): void {
  if (typeof snap !== 'object' || snap === null) throw new TisSnapshotError('snapshot is not an object');
  const s = snap as Record<string, unknown>;
  if (s.version !== 1) throw new TisSnapshotError('unsupported snapshot version');
  if (typeof s.profile !== 'string' || !(TIS_PROFILES as readonly string[]).includes(s.profile)) {
    throw new TisSnapshotError('unknown profile');
  }
  if (s.profile !== profile) throw new TisSnapshotError(`snapshot is for profile ${s.profile}, device is ${profile}`);
  if (!optLocality(s.active) || !optLocality(s.cmdLocality)) throw new TisSnapshotError('bad locality');
  if (!isLocalityRegsArray(s.loc)) throw new TisSnapshotError('bad locality registers');
  if (!intIn(s.rwOffset, ctx.bufferSize) || !intIn(s.respLen, ctx.bufferSize) || !intIn(s.execReadsLeft, 0xffff)) {
    throw new TisSnapshotError('bad offsets');
  }
  if (typeof s.buffer !== 'string' || typeof s.intfSelLock !== 'boolean') throw new TisSnapshotError('bad buffer');
  if (s.pending !== null && typeof s.pending !== 'string') throw new TisSnapshotError('bad pending response');
  let buffer: Uint8Array;
  let pending: Uint8Array | null;
  try {
    buffer = fromHex(s.buffer);
    pending = s.pending === null ? null : fromHex(s.pending);
  } catch (e) {
    throw new TisSnapshotError(`bad hex: ${(e as Error).message}`);
  }
  if (buffer.length > ctx.bufferSize) throw new TisSnapshotError('buffer larger than the device buffer');
  const c = ctx.core;
  c.active = s.active;
  s.loc.forEach((r, i) => {
    const dst = c.loc[i];
    if (dst) Object.assign(dst, cloneLocalityRegs(r));
  });
  c.buffer.fill(0);
  c.buffer.set(buffer);
  c.rwOffset = s.rwOffset;
  c.respLen = s.respLen;
  c.pending = pending;
  c.cmdLocality = s.cmdLocality;
  c.execReadsLeft = s.execReadsLeft;
  c.intfSelLock = s.intfSelLock;
}
