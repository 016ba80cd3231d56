/**
 * TPM 1.2 engine state: what survives TPM_Init (permanent: NV) and what does not (volatile).
 * Only the state the supported commands observe is modelled (libtpms `tpm_global.h` `tpm_state_t`).
 */
import { TPM_DIGEST_SIZE, TPM_NUM_PCR, TPM_TEST_STATE, type TpmTestState } from './constants.js';
import { pcrInitFill } from './pcr-attributes.js';
import type { Sha1Stream } from './sha1-stream.js';

/**
 * TPM_STCLEAR_FLAGS that the supported commands can change (disableForceClear and bGlobalLock
 * stay FALSE). Reset by TPM_Init, saved by TPM_SaveState.
 */
export interface StclearFlags {
  /** TPM_Startup(ST_DEACTIVATED) */
  deactivated: boolean;
  /** TSC_PhysicalPresence PRESENT / NOTPRESENT */
  physicalPresence: boolean;
  /** TSC_PhysicalPresence LOCK */
  physicalPresenceLock: boolean;
}

/** The TPM_PERMANENT_FLAGS set by TSC_PhysicalPresence (NV: survive TPM_Init). */
export interface PhysicalPresenceFlags {
  physicalPresenceLifetimeLock: boolean;
  physicalPresenceHWEnable: boolean;
  physicalPresenceCMDEnable: boolean;
}

/** What TPM_SaveState preserved for TPM_Startup(ST_STATE) (libtpms `TPM_SaveState_Store`). */
export interface SavedState {
  /** PCRs with pcrReset FALSE (0–15); resettable PCRs are never saved (libtpms `TPM_PCRs_Load`). */
  readonly pcrs: Uint8Array[];
  readonly stclear: Readonly<StclearFlags>;
}

export interface Tpm12State {
  // ---- permanent (NV): survives TPM_Init ----
  /** TPM_PERMANENT_FLAGS.tpmEstablished (Part 2 §7.1). */
  tpmEstablished: boolean;
  /** Physical-presence configuration (TPM_PERMANENT_FLAGS). */
  pp: PhysicalPresenceFlags;
  /** The NV copy written by TPM_SaveState, or null. */
  savedState: SavedState | null;
  // ---- volatile: reset by TPM_Init ----
  /** TPM_STANY_FLAGS.postInitialise: TRUE between TPM_Init and TPM_Startup (libtpms `TPM_CheckState`). */
  postInitialise: boolean;
  /** libtpms self-test state: LIMITED after Init, FULL after the self-test, FAILURE = failure mode. */
  testState: TpmTestState;
  /** TPM_STCLEAR_DATA.PCR[24] (SHA-1). */
  pcrs: Pcrs12;
  stclear: StclearFlags;
  /** TPM_STANY_FLAGS.TOSPresent: a HASH_START happened since TPM_Init (libtpms `TPM12_IO_Hash_Start`). */
  tosPresent: boolean;
  /** TPM_STANY_FLAGS.stateSaved: a TPM_SaveState is pending in NV and not yet invalidated. */
  stateSaved: boolean;
  /** The TPM_SHA1Start thread (Part 3 §13.1). */
  sha1Thread: Sha1Stream | null;
  /** The separate HASH_START/HASH_DATA context of the TIS (libtpms `sha1_context_tis`). */
  tisHash: Sha1Stream | null;
}

/**
 * The 24 PCRs in one 480-byte buffer, views made when asked for: a test farm holds thousands of
 * TPMs, and 24 Uint8Array objects per TPM cost ~2.4 KiB of heap where their data is 480 bytes.
 */
export class Pcrs12 {
  readonly bytes: Uint8Array;
  constructor(values?: readonly Uint8Array[]) {
    this.bytes = new Uint8Array(TPM_NUM_PCR * TPM_DIGEST_SIZE);
    if (values) values.forEach((v, i) => this.set(i, v));
    else for (let i = 0; i < TPM_NUM_PCR; i++) this.get(i)?.fill(pcrInitFill(i));
  }

  /** A view of PCR `i` (writing to it changes the PCR), undefined past the last PCR. */
  get(i: number): Uint8Array | undefined {
    if (!Number.isInteger(i) || i < 0 || i >= TPM_NUM_PCR) return undefined;
    return this.bytes.subarray(i * TPM_DIGEST_SIZE, (i + 1) * TPM_DIGEST_SIZE);
  }

  set(i: number, v: Uint8Array): void {
    if (v.length !== TPM_DIGEST_SIZE) throw new RangeError(`a TPM 1.2 PCR is ${TPM_DIGEST_SIZE} bytes`);
    this.get(i)?.set(v);
  }

  /** hex of all 24, in order (what a snapshot keeps): one conversion, then slices. */
  hex(): string[] {
    const all = Buffer.from(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength).toString('hex');
    const w = TPM_DIGEST_SIZE * 2;
    const out = new Array<string>(TPM_NUM_PCR);
    for (let i = 0; i < TPM_NUM_PCR; i++) out[i] = all.slice(i * w, (i + 1) * w);
    return out;
  }

  /** Copies of all 24, in order. */
  copies(): Uint8Array[] {
    return Array.from({ length: TPM_NUM_PCR }, (_, i) => this.bytes.slice(i * TPM_DIGEST_SIZE, (i + 1) * TPM_DIGEST_SIZE));
  }
}

export function initialPcrs(): Pcrs12 {
  return new Pcrs12();
}

/** A brand-new TPM right after its first TPM_Init (no Startup yet). */
export function freshState(): Tpm12State {
  return {
    tpmEstablished: false,
    pp: { physicalPresenceLifetimeLock: false, physicalPresenceHWEnable: false, physicalPresenceCMDEnable: false },
    savedState: null,
    postInitialise: true,
    testState: TPM_TEST_STATE.LIMITED,
    pcrs: initialPcrs(),
    stclear: { deactivated: false, physicalPresence: false, physicalPresenceLock: false },
    tosPresent: false,
    stateSaved: false,
    sha1Thread: null,
    tisHash: null,
  };
}

/**
 * TPM_Init (power cycle, swtpm ctrl INIT): every volatile item goes back to its TPM_Init value;
 * tpmEstablished, the physical-presence configuration and a saved state in NV survive.
 */
export function tpmInit(s: Tpm12State): void {
  const fresh = freshState();
  fresh.tpmEstablished = s.tpmEstablished;
  fresh.pp = s.pp;
  fresh.savedState = s.savedState;
  Object.assign(s, fresh);
}
