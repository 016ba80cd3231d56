/**
 * State checks common to all TPM 1.2 ordinals, in libtpms order: `TPM_CheckState` (per command),
 * `TPM_Process_Preprocess` (before every command whose header is valid), and the request-tag check.
 * TPM Main Part 3 §3 (startup), §4 (self-test), §13 (SHA-1 thread); libtpms `TPM_CheckState`, `TPM_Check_SHA1Context`.
 */
import { TPM_ORD, TPM_TAG, TPM_TEST_STATE } from './constants.js';
import { TPM_RC12, Tpm12Error } from './return-codes.js';
import type { Tpm12State } from './state.js';

/** libtpms `TPM_CHECK_*` bits: which state conditions a command refuses to run in. */
export const TPM_CHECK = {
  NOT_SHUTDOWN: 0x01,
  ENABLED: 0x04,
  ACTIVATED: 0x08,
  NO_LOCKOUT: 0x20,
  /** all state but owner installed */
  ALLOW_NO_OWNER: 0x2f,
} as const;

/**
 * libtpms `TPM_CheckState`. The dictionary-attack lockout (NO_LOCKOUT) and the permanent
 * disable flag cannot be set through the supported commands, so they never fire here.
 */
export function checkState(s: Tpm12State, map: number): void {
  if (map & TPM_CHECK.NOT_SHUTDOWN && s.testState === TPM_TEST_STATE.FAILURE) {
    throw new Tpm12Error(TPM_RC12.FAILEDSELFTEST);
  }
  if (s.postInitialise) throw new Tpm12Error(TPM_RC12.INVALID_POSTINIT);
  if (map & TPM_CHECK.ACTIVATED && s.stclear.deactivated) throw new Tpm12Error(TPM_RC12.DEACTIVATED);
}

/** Every supported command takes TPM_TAG_RQU_COMMAND only (libtpms `TPM_CheckRequestTag0`). */
export function requireTagRquCommand(tag: number): void {
  if (tag !== TPM_TAG.RQU_COMMAND) throw new Tpm12Error(TPM_RC12.BADTAG);
}

/** Ordinals that may run in limited-operation mode without first running the self-test. */
const LIMITED_MODE_ORDINALS: ReadonlySet<number> = new Set([
  TPM_ORD.Startup,
  TPM_ORD.SHA1Start,
  TPM_ORD.SHA1Update,
  TPM_ORD.SHA1Complete,
  TPM_ORD.SHA1CompleteExtend,
  TPM_ORD.Extend,
  TPM_ORD.ContinueSelfTest,
  TPM_ORD.GetCapability,
  TPM_ORD.SelfTestFull,
  TPM_ORD.GetTestResult,
  TPM_ORD.TSC_PhysicalPresence,
  TPM_ORD.TSC_ResetEstablishmentBit,
]);

/** Ordinals that keep an open SHA-1 thread alive (libtpms `TPM_Check_SHA1Context`). */
const SHA1_THREAD_ORDINALS: ReadonlySet<number> = new Set([
  TPM_ORD.SHA1Update,
  TPM_ORD.SHA1Complete,
  TPM_ORD.SHA1CompleteExtend,
]);

/** libtpms `TPM_ContinueSelfTestCmd`: the self-test never fails in this engine. */
export function continueSelfTest(s: Tpm12State): void {
  s.testState = TPM_TEST_STATE.FULL;
}

/** Invalidate a pending TPM_SaveState (libtpms `TPM_SaveState_NVDelete`). */
export function deleteSavedState(s: Tpm12State): void {
  s.savedState = null;
  s.stateSaved = false;
}

/**
 * libtpms `TPM_Process_Preprocess`, run for every command with a valid header, known ordinal or
 * not, before the ordinal's own checks:
 * 1. in limited mode, an ordinal outside the limited set runs the self-test first;
 * 2. any ordinal but SHA1Update/Complete/CompleteExtend kills the SHA-1 thread (docs/tpm-quirks.md#sha-1-thread);
 * 3. any ordinal but Startup/Init invalidates a pending TPM_SaveState.
 */
export function preprocess(s: Tpm12State, ordinal: number): void {
  if (s.testState === TPM_TEST_STATE.LIMITED && !LIMITED_MODE_ORDINALS.has(ordinal)) continueSelfTest(s);
  if (s.sha1Thread && !SHA1_THREAD_ORDINALS.has(ordinal)) s.sha1Thread = null;
  if (s.stateSaved && ordinal !== TPM_ORD.Startup && ordinal !== TPM_ORD.Init) deleteSavedState(s);
}
