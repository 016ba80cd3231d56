/**
 * TPM_Startup (Part 3 §3.2), TPM_SaveState (§3.3) and TPM_Init sent as a wire command.
 * Behaviour as libtpms `tpm_startup.c` / `tpm_init.c`, checked against swtpm.
 */
import { TPM_NUM_PCR, TPM_ST, TPM_TAG, TPM_TEST_STATE } from '../constants.js';
import { TPM_CHECK, checkState, deleteSavedState, requireTagRquCommand } from '../check-state.js';
import type { CommandContext } from '../command.js';
import { errorResponse, responseTagFor, successResponse } from '../header.js';
import { pcrAttributes } from '../pcr-attributes.js';
import { TPM_RC12, Tpm12Error } from '../return-codes.js';
import type { Tpm12State } from '../state.js';

function startupState(s: Tpm12State): void {
  const saved = s.savedState;
  if (!saved) {
    // No state to restore: failure mode (Part 3 §3.2 action 3.a).
    s.testState = TPM_TEST_STATE.FAILURE;
    throw new Tpm12Error(TPM_RC12.FAILEDSELFTEST);
  }
  // Non-resettable PCRs come back; resettable ones keep their TPM_Init value (libtpms `TPM_PCRs_Load`).
  let i = 0;
  for (let pcr = 0; pcr < TPM_NUM_PCR; pcr++) {
    if (pcrAttributes(pcr).pcrReset) continue;
    const v = saved.pcrs[i++];
    if (v) s.pcrs.set(pcr, v);
  }
  s.stclear = { ...saved.stclear };
}

/**
 * TPM_Startup: `startupType u16`. Not after another Startup (TPM_INVALID_POSTINIT); in failure mode
 * TPM_FAILEDSELFTEST. As in libtpms, whatever the outcome — even a bad tag or a bad size — the
 * command leaves post-init state and invalidates any saved state.
 */
export function startup(ctx: CommandContext): Uint8Array {
  const s = ctx.state;
  try {
    const type = ctx.params.u16();
    requireTagRquCommand(ctx.tag);
    ctx.params.expectEnd();
    if (!s.postInitialise) throw new Tpm12Error(TPM_RC12.INVALID_POSTINIT);
    if (s.testState === TPM_TEST_STATE.FAILURE) throw new Tpm12Error(TPM_RC12.FAILEDSELFTEST);
    switch (type) {
      case TPM_ST.CLEAR:
        s.stclear.deactivated = false; // = TPM_PERMANENT_FLAGS.deactivated, FALSE on this TPM
        break;
      case TPM_ST.STATE:
        startupState(s);
        break;
      case TPM_ST.DEACTIVATED:
        s.stclear.deactivated = true;
        break;
      default:
        throw new Tpm12Error(TPM_RC12.BAD_PARAMETER);
    }
    // TPM_STANY_FLAGS reset on any successful Startup.
    s.tosPresent = false;
    return successResponse();
  } finally {
    deleteSavedState(s);
    s.postInitialise = false;
  }
}

/** TPM_SaveState: keeps PCR 0–15 and the STCLEAR flags for a later TPM_Startup(ST_STATE). */
export function saveState(ctx: CommandContext): Uint8Array {
  checkState(ctx.state, TPM_CHECK.NOT_SHUTDOWN | TPM_CHECK.NO_LOCKOUT);
  requireTagRquCommand(ctx.tag);
  ctx.params.expectEnd();
  const s = ctx.state;
  s.savedState = {
    pcrs: s.pcrs.copies().filter((_, pcr) => !pcrAttributes(pcr).pcrReset),
    stclear: { ...s.stclear },
  };
  s.stateSaved = true;
  return successResponse();
}

/**
 * TPM_Init as a wire command: libtpms (built without TPM_TEST) answers TPM_BAD_ORDINAL after the
 * tag and size checks; like an unused ordinal, the reply keeps the auth tag of the request.
 */
export function initOrdinal(ctx: CommandContext): Uint8Array {
  const tag = responseTagFor(ctx.tag);
  if (ctx.tag !== TPM_TAG.RQU_COMMAND) return errorResponse(TPM_RC12.BADTAG, tag);
  if (ctx.params.remaining !== 0) return errorResponse(TPM_RC12.BAD_PARAM_SIZE, tag);
  return errorResponse(TPM_RC12.BAD_ORDINAL, tag);
}
