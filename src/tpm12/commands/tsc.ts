/**
 * TPM Main Part 3 §6.2 TSC_PhysicalPresence and §6.3 TSC_ResetEstablishmentBit.
 * Behaviour as libtpms `TPM_Process_PhysicalPresence` / `TPM_Process_ResetEstablishmentBit`.
 */
import { TPM_LOC, TPM_PHYSICAL_PRESENCE as PP } from '../constants.js';
import { TPM_CHECK, checkState, requireTagRquCommand } from '../check-state.js';
import type { CommandContext } from '../command.js';
import { successResponse } from '../header.js';
import { localityAllowed } from '../pcr-attributes.js';
import { TPM_RC12, Tpm12Error } from '../return-codes.js';

const KNOWN = PP.LOCK | PP.PRESENT | PP.NOTPRESENT | PP.CMD_ENABLE | PP.HW_ENABLE | PP.LIFETIME_LOCK | PP.CMD_DISABLE | PP.HW_DISABLE;
/** Lifetime settings (A1 in Part 3 §6.2). */
const LIFETIME = PP.LIFETIME_LOCK | PP.HW_ENABLE | PP.CMD_ENABLE | PP.HW_DISABLE | PP.CMD_DISABLE;
/** Assertion settings (A2). */
const ASSERTION = PP.LOCK | PP.PRESENT | PP.NOTPRESENT;

const both = (v: number, a: number, b: number): boolean => (v & a) !== 0 && (v & b) !== 0;

function badParameter(): never {
  throw new Tpm12Error(TPM_RC12.BAD_PARAMETER);
}

/**
 * TSC_PhysicalPresence: `physicalPresence u16`. Unknown bits, lifetime and assertion settings
 * mixed, contradictory pairs, a lifetime lock, CMD_ENABLE not set (for assertions), a PP lock,
 * or no setting at all → TPM_BAD_PARAMETER. All checks run before any flag changes.
 */
export function physicalPresence(ctx: CommandContext): Uint8Array {
  const v = ctx.params.u16();
  checkState(ctx.state, TPM_CHECK.NOT_SHUTDOWN | TPM_CHECK.NO_LOCKOUT);
  requireTagRquCommand(ctx.tag);
  ctx.params.expectEnd();
  const s = ctx.state;
  if ((v & ~KNOWN) !== 0) badParameter();
  const a1 = v & LIFETIME;
  const a2 = v & ASSERTION;
  if (a1) {
    if (s.pp.physicalPresenceLifetimeLock || a2) badParameter();
    if (both(v, PP.HW_ENABLE, PP.HW_DISABLE) || both(v, PP.CMD_ENABLE, PP.CMD_DISABLE)) badParameter();
    if (v & PP.HW_ENABLE) s.pp.physicalPresenceHWEnable = true;
    if (v & PP.HW_DISABLE) s.pp.physicalPresenceHWEnable = false;
    if (v & PP.CMD_ENABLE) s.pp.physicalPresenceCMDEnable = true;
    if (v & PP.CMD_DISABLE) s.pp.physicalPresenceCMDEnable = false;
    if (v & PP.LIFETIME_LOCK) s.pp.physicalPresenceLifetimeLock = true;
    return successResponse();
  }
  if (!a2) badParameter();
  if (!s.pp.physicalPresenceCMDEnable) badParameter();
  if (both(v, PP.LOCK, PP.PRESENT) || both(v, PP.PRESENT, PP.NOTPRESENT)) badParameter();
  if (s.stclear.physicalPresenceLock) badParameter();
  if (v & PP.LOCK) {
    s.stclear.physicalPresence = false;
    s.stclear.physicalPresenceLock = true;
  }
  if (v & PP.PRESENT) s.stclear.physicalPresence = true;
  if (v & PP.NOTPRESENT) s.stclear.physicalPresence = false;
  return successResponse();
}

/** TSC_ResetEstablishmentBit: localities 3 and 4 only (libtpms `TPM12_IO_TpmEstablished_Reset`), else TPM_BAD_LOCALITY. */
export function resetEstablishmentBit(ctx: CommandContext): Uint8Array {
  checkState(ctx.state, TPM_CHECK.NOT_SHUTDOWN | TPM_CHECK.NO_LOCKOUT);
  requireTagRquCommand(ctx.tag);
  ctx.params.expectEnd();
  if (!localityAllowed(TPM_LOC.THREE | TPM_LOC.FOUR, ctx.locality)) throw new Tpm12Error(TPM_RC12.BAD_LOCALITY);
  ctx.state.tpmEstablished = false;
  return successResponse();
}
