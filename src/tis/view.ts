/**
 * A decoded, JSON-able view of the device (for the HTTP layer and for tests). Computing it has no
 * side effects: no FIFO bytes are consumed and no time passes for an executing command.
 */
import { LOCALITIES, type Locality, type TpmFamily } from '../tpm/engine.js';
import { readAccess } from './arbitration.js';
import { readSts } from './fifo.js';
import { TIS_ACCESS, TIS_STS, type TisProfile } from './registers.js';
import type { TisContext, TisFsmState } from './state.js';

export interface TisAccessView {
  readonly raw: number;
  readonly tpmEstablishment: boolean;
  readonly requestUse: boolean;
  readonly pendingRequest: boolean;
  readonly beenSeized: boolean;
  readonly activeLocality: boolean;
  readonly tpmRegValidSts: boolean;
}

export interface TisStsView {
  /** The dword a 4-byte read would return. */
  readonly raw: number;
  readonly stsValid: boolean;
  readonly commandReady: boolean;
  readonly expect: boolean;
  readonly dataAvail: boolean;
  readonly selfTestDone: boolean;
  readonly burstCount: number;
  readonly tpmFamily: '1.2' | '2.0';
}

export interface TisLocalityView {
  readonly locality: Locality;
  readonly access: TisAccessView;
  /** null when the locality is not active (its STS then reads 0xFFFFFFFF). */
  readonly sts: TisStsView | null;
  readonly intEnable: number;
  readonly intStatus: number;
}

export interface TisStateView {
  readonly profile: TisProfile;
  readonly family: TpmFamily;
  readonly activeLocality: Locality | null;
  /** State machine of the active locality (null when none is active). */
  readonly state: TisFsmState | null;
  readonly localities: readonly TisLocalityView[];
  readonly buffer: {
    readonly size: number;
    /** Command bytes received (Ready/Reception/Execution). */
    readonly commandBytes: number;
    /** Response length and bytes already read (Completion). */
    readonly responseLength: number;
    readonly responseRead: number;
  };
  readonly tpmEstablished: boolean;
  readonly interruptPending: boolean;
  readonly intfSelLock: boolean;
}

function accessView(raw: number): TisAccessView {
  return {
    raw,
    tpmEstablishment: (raw & TIS_ACCESS.TPM_ESTABLISHMENT) !== 0,
    requestUse: (raw & TIS_ACCESS.REQUEST_USE) !== 0,
    pendingRequest: (raw & TIS_ACCESS.PENDING_REQUEST) !== 0,
    beenSeized: (raw & TIS_ACCESS.BEEN_SEIZED) !== 0,
    activeLocality: (raw & TIS_ACCESS.ACTIVE_LOCALITY) !== 0,
    tpmRegValidSts: (raw & TIS_ACCESS.TPM_REG_VALID_STS) !== 0,
  };
}

function stsView(raw: number): TisStsView {
  return {
    raw,
    stsValid: (raw & TIS_STS.VALID) !== 0,
    commandReady: (raw & TIS_STS.COMMAND_READY) !== 0,
    expect: (raw & TIS_STS.EXPECT) !== 0,
    dataAvail: (raw & TIS_STS.DATA_AVAIL) !== 0,
    selfTestDone: (raw & TIS_STS.SELFTEST_DONE) !== 0,
    burstCount: (raw & TIS_STS.BURST_COUNT_MASK) >>> TIS_STS.BURST_COUNT_SHIFT,
    tpmFamily: (raw & TIS_STS.TPM_FAMILY_MASK) === TIS_STS.TPM_FAMILY_2_0 ? '2.0' : '1.2',
  };
}

export function buildStateView(ctx: TisContext, profile: TisProfile): TisStateView {
  const c = ctx.core;
  const activeRegs = c.active === null ? undefined : c.loc[c.active];
  const state = activeRegs ? activeRegs.state : null;
  const completing = state === 'completion';
  return {
    profile,
    family: ctx.engine.family,
    activeLocality: c.active,
    state,
    localities: LOCALITIES.map((l) => {
      const r = c.loc[l];
      const sts = readSts(ctx, l, 4);
      return {
        locality: l,
        access: accessView(readAccess(ctx, l)),
        sts: c.active === l ? stsView(sts) : null,
        intEnable: r?.inte ?? 0,
        intStatus: r?.ints ?? 0,
      };
    }),
    buffer: {
      size: ctx.bufferSize,
      commandBytes: completing ? 0 : c.rwOffset,
      responseLength: completing ? c.respLen : 0,
      responseRead: completing ? c.rwOffset : 0,
    },
    tpmEstablished: ctx.engine.established,
    interruptPending: c.loc.some((r) => r.ints !== 0),
    intfSelLock: c.intfSelLock,
  };
}
