/**
 * TIS device state: one small struct per locality plus the single command/response buffer shared
 * by all localities (QEMU `TPMState`/`TPMLocality` in `hw/tpm/tpm_tis.h`). Plain data so that it
 * snapshots to JSON.
 */
import type { Locality, TpmEngine } from '../tpm/engine.js';
import { TIS_ACCESS, TIS_INT, TIS_NUM_LOCALITIES, type ProfileTraits, type TisProfile } from './registers.js';

/** Command state machine states (QEMU `TPMTISState`). */
export const TIS_FSM = {
  IDLE: 'idle',
  READY: 'ready',
  RECEPTION: 'reception',
  EXECUTION: 'execution',
  COMPLETION: 'completion',
} as const;
export type TisFsmState = (typeof TIS_FSM)[keyof typeof TIS_FSM];
export const TIS_FSM_STATES: readonly TisFsmState[] = Object.values(TIS_FSM);

export interface LocalityRegs {
  /** Stored ACCESS bits: tpmRegValidSts, requestUse, seize (internal), beenSeized, activeLocality. */
  access: number;
  /** Stored STS flags (byte 0 plus sticky selfTestDone/tpmFamily); burstCount is computed on read. */
  sts: number;
  state: TisFsmState;
  /** INT_ENABLE */
  inte: number;
  /** INT_STATUS */
  ints: number;
}

export interface TisCore {
  active: Locality | null;
  readonly loc: LocalityRegs[];
  /** Shared command/response buffer, `bufferSize` bytes. */
  buffer: Uint8Array;
  /** Write offset while receiving, read offset while completing (QEMU `rw_offset`). */
  rwOffset: number;
  /** Length of the response in `buffer` (valid in Completion). */
  respLen: number;
  /** Response produced by the synchronous engine call, published when Execution completes. */
  pending: Uint8Array | null;
  /** Locality the executing command came from. */
  cmdLocality: Locality | null;
  /** MMIO reads left before Execution turns into Completion. */
  execReadsLeft: number;
  /** INTERFACE_ID intfSelLock, set in every locality at once. */
  intfSelLock: boolean;
}

export function newLocalityRegs(familyBits: number): LocalityRegs {
  // QEMU `tpm_tis_reset`: ACCESS = tpmRegValidSts, INT_ENABLE = level-low polarity.
  return { access: TIS_ACCESS.TPM_REG_VALID_STS, sts: familyBits, state: TIS_FSM.IDLE, inte: TIS_INT.POLARITY_LOW_LEVEL, ints: 0 };
}

/** Serialisable device state (everything but the engine and the construction options). */
export interface TisSnapshot {
  readonly version: 1;
  readonly profile: TisProfile;
  readonly active: Locality | null;
  readonly loc: readonly LocalityRegs[];
  /** Hex of the used part of the shared buffer. */
  readonly buffer: string;
  readonly rwOffset: number;
  readonly respLen: number;
  readonly pending: string | null;
  readonly cmdLocality: Locality | null;
  readonly execReadsLeft: number;
  readonly intfSelLock: boolean;
}

export function cloneLocalityRegs(l: LocalityRegs): LocalityRegs {
  return { access: l.access, sts: l.sts, state: l.state, inte: l.inte, ints: l.ints };
}

export function isLocalityRegsArray(v: unknown): v is LocalityRegs[] {
  if (!Array.isArray(v) || v.length !== TIS_NUM_LOCALITIES) return false;
  return v.every((x: unknown) => {
    if (typeof x !== 'object' || x === null) return false;
    const r = x as Record<string, unknown>;
    return (
      Number.isInteger(r.access) &&
      Number.isInteger(r.sts) &&
      Number.isInteger(r.inte) &&
      Number.isInteger(r.ints) &&
      typeof r.state === 'string' &&
      (TIS_FSM_STATES as readonly string[]).includes(r.state)
    );
  });
}

/** Everything the register logic needs: the state, the backend and the fixed configuration. */
export interface TisContext {
  readonly core: TisCore;
  readonly engine: TpmEngine;
  readonly traits: ProfileTraits;
  /** min(engine.bufferSize, 4096) (QEMU `be_buffer_size`). */
  readonly bufferSize: number;
  /** Largest burstCount ever shown (8-bit parts: 0xFF; default 0xFFFF). */
  readonly burstMax: number;
  /** MMIO reads that still show Execution (STS 0x80) after tpmGo before Completion. */
  readonly executionReads: number;
}
