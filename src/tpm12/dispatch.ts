/**
 * TPM 1.2 command processing (libtpms `TPM_Process`): header, preprocessing common to all
 * ordinals, the ordinal table, and the error-response rule (libtpms `tpm_process.c`).
 */
import type { Locality } from '../tpm/engine.js';
import { TPM12_HEADER_SIZE, TPM_ORD, TPM_TEST_STATE } from './constants.js';
import { preprocess } from './check-state.js';
import type { CommandHandler } from './command.js';
import { getCapability } from './commands/capability.js';
import { continueSelfTestCommand, getRandom, getTestResult, selfTestFull } from './commands/admin.js';
import { extend, pcrRead, pcrReset } from './commands/pcr.js';
import { sha1Complete, sha1CompleteExtend, sha1Start, sha1Update } from './commands/sha1.js';
import { initOrdinal, saveState, startup } from './commands/startup.js';
import { physicalPresence, resetEstablishmentBit } from './commands/tsc.js';
import { ParamReader, errorResponse, parseRequestHeader, responseTagFor } from './header.js';
import { TPM_RC12, Tpm12Error } from './return-codes.js';
import type { Tpm12State } from './state.js';

/** The ordinal table: ordinals this engine implements. */
export const TPM12_HANDLERS: ReadonlyMap<number, CommandHandler> = new Map<number, CommandHandler>([
  [TPM_ORD.Startup, startup],
  [TPM_ORD.SaveState, saveState],
  [TPM_ORD.Init, initOrdinal],
  [TPM_ORD.SelfTestFull, selfTestFull],
  [TPM_ORD.ContinueSelfTest, continueSelfTestCommand],
  [TPM_ORD.GetTestResult, getTestResult],
  [TPM_ORD.GetCapability, getCapability],
  [TPM_ORD.GetRandom, getRandom],
  [TPM_ORD.PcrRead, pcrRead],
  [TPM_ORD.Extend, extend],
  [TPM_ORD.PCR_Reset, pcrReset],
  [TPM_ORD.SHA1Start, sha1Start],
  [TPM_ORD.SHA1Update, sha1Update],
  [TPM_ORD.SHA1Complete, sha1Complete],
  [TPM_ORD.SHA1CompleteExtend, sha1CompleteExtend],
  [TPM_ORD.TSC_PhysicalPresence, physicalPresence],
  [TPM_ORD.TSC_ResetEstablishmentBit, resetEstablishmentBit],
]);

/** Ordinals with their own handler here (exported so callers can tell emulated from refused). */
export const TPM12_IMPLEMENTED_ORDINALS: readonly number[] = [...TPM12_HANDLERS.keys()].sort((a, b) => a - b);

/**
 * Run one command. Never throws for any input: malformed headers, unknown ordinals and command
 * errors are all answered with a TPM response.
 * - header short or paramSize ≠ length → TPM_BAD_PARAM_SIZE, nothing else happens;
 * - preprocessing (self-test, SHA-1 thread, saved state) for every other command;
 * - an ordinal without handler → TPM_BAD_ORDINAL, keeping an auth tag (C2→C5, C3→C6) as libtpms'
 *   `TPM_Process_Unused` does;
 * - a handler error → 10-byte response with tag C4; TPM_FAIL also enters failure mode.
 */
export function processCommand(
  state: Tpm12State,
  command: Uint8Array,
  locality: Locality,
  random: (n: number) => Uint8Array,
): Uint8Array {
  const header = parseRequestHeader(command);
  if ('error' in header) return errorResponse(header.error);
  preprocess(state, header.ordinal);
  const handler = TPM12_HANDLERS.get(header.ordinal);
  if (!handler) return errorResponse(TPM_RC12.BAD_ORDINAL, responseTagFor(header.tag));
  const params = new ParamReader(command.subarray(TPM12_HEADER_SIZE));
  try {
    return handler({ state, tag: header.tag, ordinal: header.ordinal, params, locality, random });
  } catch (e) {
    if (!(e instanceof Tpm12Error)) throw e;
    if (e.rc === TPM_RC12.FAIL) state.testState = TPM_TEST_STATE.FAILURE;
    return errorResponse(e.rc);
  }
}
