/**
 * TPM 1.2 engine state: what survives TPM_Init (permanent: NV) and what does not (volatile).
 * Only the state the supported commands observe is modelled (facts §2.5–§2.8, §4.1).
 */
import { TPM_DIGEST_SIZE, TPM_NUM_PCR, TPM_TEST_STATE, type TpmTestState } from './constants.js';
import { pcrInitFill } from './pcr-attributes.js';
import type { Sha1Stream } from './sha1-stream.js';

/** What TPM_SaveState preserved for TPM_Startup(ST_STATE) (libtpms `TPM_SaveState_Store`). */
export interface SavedState {
  /** PCRs with pcrReset FALSE (0–15); resettable PCRs are never saved (facts §2.8). */
  readonly pcrs: Uint8Array[];
  /** TPM_STCLEAR_FLAGS.deactivated, the only STCLEAR flag the engine models. */
  readonly deactivated: boolean;
}

export interface Tpm12State {
  // ---- permanent (NV): survives TPM_Init ----
  /** TPM_PERMANENT_FLAGS.tpmEstablished (facts §1.3, §2.7). */
  tpmEstablished: boolean;
  /** The NV copy written by TPM_SaveState, or null. */
  savedState: SavedState | null;
  // ---- volatile: reset by TPM_Init ----
  /** TPM_STANY_FLAGS.postInitialise: TRUE between TPM_Init and TPM_Startup (facts §2.8). */
  postInitialise: boolean;
  /** libtpms self-test state: LIMITED after Init, FULL after the self-test, FAILURE = failure mode. */
  testState: TpmTestState;
  /** TPM_STCLEAR_DATA.PCR[24] (SHA-1). */
  pcrs: Uint8Array[];
  /** TPM_STCLEAR_FLAGS.deactivated (TPM_Startup(ST_DEACTIVATED)). */
  deactivated: boolean;
  /** TPM_STANY_FLAGS.TOSPresent: a HASH_START happened since TPM_Init (facts §2.6). */
  tosPresent: boolean;
  /** TPM_STANY_FLAGS.stateSaved: a TPM_SaveState is pending in NV and not yet invalidated. */
  stateSaved: boolean;
  /** The TPM_SHA1Start thread (facts §2.5). */
  sha1Thread: Sha1Stream | null;
  /** The separate HASH_START/HASH_DATA context of the TIS (facts §2.7). */
  tisHash: Sha1Stream | null;
}

export function initialPcrs(): Uint8Array[] {
  return Array.from({ length: TPM_NUM_PCR }, (_, i) => new Uint8Array(TPM_DIGEST_SIZE).fill(pcrInitFill(i)));
}

/** A brand-new TPM right after its first TPM_Init (no Startup yet). */
export function freshState(): Tpm12State {
  return {
    tpmEstablished: false,
    savedState: null,
    postInitialise: true,
    testState: TPM_TEST_STATE.LIMITED,
    pcrs: initialPcrs(),
    deactivated: false,
    tosPresent: false,
    stateSaved: false,
    sha1Thread: null,
    tisHash: null,
  };
}

/**
 * TPM_Init (power cycle, swtpm ctrl INIT): every volatile item goes back to its TPM_Init value;
 * tpmEstablished and a saved state in NV survive.
 */
export function tpmInit(s: Tpm12State): void {
  const fresh = freshState();
  fresh.tpmEstablished = s.tpmEstablished;
  fresh.savedState = s.savedState;
  Object.assign(s, fresh);
}
