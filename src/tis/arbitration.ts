/**
 * Locality arbitration: TPM_ACCESS_x reads and writes, requestUse / relinquish / Seize /
 * beenSeized / pendingRequest, and the localityChange interrupt (QEMU `hw/tpm/tpm_tis_common.c`
 * `tpm_tis_mmio_write` ACCESS case and `tpm_tis_new_active_locality`; qtest `tpm-tis-util.c`).
 *
 * Difference from QEMU (deliberate, docs/tpm-quirks.md#locality-change-aborts-the-shared-buffer): any
 * change of the active locality aborts whatever is in the shared buffer and puts every locality's
 * state machine back to Idle, so a newly granted locality always starts in Idle. QEMU keeps each
 * locality's old state. Commands execute synchronously, so an abort never has to wait for the
 * backend (QEMU defers the switch until the backend answers).
 */
import type { Locality } from '../tpm/engine.js';
import { TIS_ACCESS, TIS_INT, TIS_NUM_LOCALITIES, TIS_STS_STICKY } from './registers.js';
import { TIS_FSM, type LocalityRegs, type TisContext, type TisCore } from './state.js';

function regs(core: TisCore, l: number): LocalityRegs {
  const r = core.loc[l];
  if (!r) throw new RangeError(`locality ${l} out of range`);
  return r;
}

/** Set INT_STATUS bits if globally enabled and enabled for that source (QEMU `tpm_tis_raise_irq`). */
export function raiseIrq(ctx: TisContext, l: Locality | null, mask: number): void {
  if (l === null) return;
  const r = regs(ctx.core, l);
  if ((r.inte & TIS_INT.GLOBAL_ENABLE) !== 0 && (r.inte & mask) !== 0) r.ints = (r.ints | (r.inte & mask)) >>> 0;
}

/** Replace the STS flags, keeping selfTestDone and tpmFamily (QEMU `tpm_tis_sts_set`). */
export function stsSet(r: LocalityRegs, flags: number): void {
  r.sts = ((r.sts & TIS_STS_STICKY) | flags) >>> 0;
}

/** Drop the shared buffer's command/response and return every locality to Idle. */
export function abortAll(core: TisCore): void {
  core.rwOffset = 0;
  core.respLen = 0;
  core.pending = null;
  core.cmdLocality = null;
  core.execReadsLeft = 0;
  for (const r of core.loc) {
    r.state = TIS_FSM.IDLE;
    stsSet(r, 0);
  }
}

/** Make `next` the active locality (or none), as QEMU `tpm_tis_new_active_locality`. */
export function setActiveLocality(ctx: TisContext, next: Locality | null): void {
  const core = ctx.core;
  const old = core.active;
  const change = old !== next;
  if (change && old !== null) {
    const isSeize = next !== null && (regs(core, next).access & TIS_ACCESS.SEIZE) !== 0;
    const o = regs(core, old);
    o.access &= isSeize ? ~TIS_ACCESS.ACTIVE_LOCALITY : ~(TIS_ACCESS.ACTIVE_LOCALITY | TIS_ACCESS.REQUEST_USE);
    if (isSeize) o.access |= TIS_ACCESS.BEEN_SEIZED;
  }
  if (change) abortAll(core);
  core.active = next;
  if (next !== null) {
    const n = regs(core, next);
    n.access = (n.access | TIS_ACCESS.ACTIVE_LOCALITY) & ~(TIS_ACCESS.REQUEST_USE | TIS_ACCESS.SEIZE);
  }
  if (change) raiseIrq(ctx, next, TIS_INT.LOCALITY_CHANGED);
}

/** Some locality other than `l` has requestUse set (QEMU `tpm_tis_check_request_use_except`). */
export function pendingRequestExcept(core: TisCore, l: number): boolean {
  return core.loc.some((r, i) => i !== l && (r.access & TIS_ACCESS.REQUEST_USE) !== 0);
}

/** Highest-numbered locality with requestUse set, or null. */
export function highestRequester(core: TisCore): Locality | null {
  for (let c = TIS_NUM_LOCALITIES - 1; c >= 0; c--) {
    if ((regs(core, c).access & TIS_ACCESS.REQUEST_USE) !== 0) return c as Locality;
  }
  return null;
}

/** TPM_ACCESS_x as read: Seize never shown, pendingRequest computed, tpmEstablishment = NOT established. */
export function readAccess(ctx: TisContext, l: Locality): number {
  let v = regs(ctx.core, l).access & ~TIS_ACCESS.SEIZE;
  if (pendingRequestExcept(ctx.core, l)) v |= TIS_ACCESS.PENDING_REQUEST;
  if (!ctx.engine.established) v |= TIS_ACCESS.TPM_ESTABLISHMENT;
  return v & 0xff;
}

/** Relinquish from the active locality: hand over to the highest requester, or to nobody. */
export function relinquish(ctx: TisContext, l: Locality): void {
  if (ctx.core.active !== l) return;
  setActiveLocality(ctx, highestRequester(ctx.core));
}

/** A Seize from `l` is possible: `l` outranks the active locality (or none is active) and no higher seize is pending. */
function seizeAllowed(core: TisCore, l: Locality): boolean {
  if (core.active !== null && l <= core.active) return false;
  if ((regs(core, l).access & TIS_ACCESS.SEIZE) !== 0) return false;
  for (let h = l + 1; h < TIS_NUM_LOCALITIES; h++) if ((regs(core, h).access & TIS_ACCESS.SEIZE) !== 0) return false;
  return true;
}

/** TPM_ACCESS_x write (8 bits), in QEMU's order: relinquish, beenSeized, Seize, requestUse. */
export function writeAccess(ctx: TisContext, l: Locality, value: number): void {
  const core = ctx.core;
  let val = value & 0xff;
  if ((val & TIS_ACCESS.SEIZE) !== 0) val &= ~(TIS_ACCESS.REQUEST_USE | TIS_ACCESS.ACTIVE_LOCALITY);
  let next: Locality | null = core.active;
  let applyNext = true;

  if ((val & TIS_ACCESS.ACTIVE_LOCALITY) !== 0) {
    if (core.active === l) {
      const req = highestRequester(core);
      if (req !== null) {
        applyNext = false;
        setActiveLocality(ctx, req);
      } else {
        next = null;
      }
    } else {
      regs(core, l).access &= ~TIS_ACCESS.REQUEST_USE;
    }
  }
  if ((val & TIS_ACCESS.BEEN_SEIZED) !== 0) regs(core, l).access &= ~TIS_ACCESS.BEEN_SEIZED;
  if ((val & TIS_ACCESS.SEIZE) !== 0 && seizeAllowed(core, l)) {
    for (let lower = 0; lower < l; lower++) regs(core, lower).access &= ~TIS_ACCESS.SEIZE;
    regs(core, l).access |= TIS_ACCESS.SEIZE;
    applyNext = false;
    setActiveLocality(ctx, l);
  }
  if ((val & TIS_ACCESS.REQUEST_USE) !== 0 && core.active !== l) {
    if (core.active !== null) regs(core, l).access |= TIS_ACCESS.REQUEST_USE;
    else next = l;
  }
  if (applyNext) setActiveLocality(ctx, next);
}
