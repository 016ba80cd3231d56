/**
 * Dynamic launch events _TPM_Hash_Start / _TPM_Hash_Data / _TPM_Hash_End (TPM 2.0 Library
 * Part 3 §33; ms-tpm-20-ref `events/_TPM_Hash_*.c`), as libtpms 0.9.2 `IntegrityCommands.c` implements them and swtpm's
 * control channel (CMD_HASH_START/DATA/END) drives them: every call returns 0.
 *
 * - Start: discard an earlier DRTM sequence, create an event sequence in an object slot; if all
 *   slots are full, flush the lowest loaded transient object (0x80000000 first) to make room.
 *   Sets tpmEstablished (libtpms TPM2_IO_Hash_Start).
 * - Data: feed the sequence (no-op without one).
 * - End after Startup: PCRResetDynamics (PCR 17–22 → 0), then PCR17 = H(0…0 ‖ H(data)) in every
 *   allocated bank. End before Startup (H-CRTM): PCR0 = H(0…04 ‖ H(data)) and the next Startup
 *   leaves PCR0 alone.
 * - Any TPM command in between ends the sequence silently (ExecuteCommand → ObjectTerminateEvent),
 *   so a later Data/End does nothing.
 */
import { digest, TPM_ALG } from '../hash/index.js';
import { LIMITS } from './constants.js';
import { newSequence, sequenceDigest, sequenceUpdate } from './objects.js';
import type { Tpm2State } from './state.js';

export function terminateDrtmSequence(state: Tpm2State): void {
  if (state.drtmHandle === null) return;
  state.objects.flush(state.drtmHandle);
  state.drtmHandle = null;
}

export function hashStart(state: Tpm2State): number {
  terminateDrtmSequence(state);
  const seq = newSequence('event', TPM_ALG.NULL, new Uint8Array(0), state.suite.algs.map((a) => a.name));
  let handle = state.objects.allocate(seq);
  if (handle === undefined) {
    const victim = state.objects.handles()[0];
    if (victim === undefined) throw new Error('engine bug: no object slot and none loaded');
    state.objects.flush(victim);
    handle = state.objects.allocate(seq);
  }
  state.drtmHandle = handle ?? null;
  state.established = true;
  return 0;
}

export function hashData(state: Tpm2State, data: Uint8Array): number {
  if (state.drtmHandle === null) return 0;
  const seq = state.objects.get(state.drtmHandle);
  if (seq) sequenceUpdate(seq, data);
  return 0;
}

export function hashEnd(state: Tpm2State, given?: (algId: number) => Uint8Array | undefined): number {
  if (state.drtmHandle === null) return 0;
  const seq = state.objects.get(state.drtmHandle);
  let pcr: number = LIMITS.HCRTM_PCR;
  if (state.started) {
    state.pcrs.resetDynamics();
    pcr = LIMITS.DRTM_PCR;
  } else {
    state.drtmPreStartup = true;
  }
  for (const alg of state.suite.algs) {
    state.pcrs.drtm(pcr, alg, given?.(alg.algId) ?? (seq ? sequenceDigest(seq, alg.name) : digest(alg, new Uint8Array(0))), state.started);
  }
  state.objects.flush(state.drtmHandle);
  state.drtmHandle = null;
  return 0;
}

/**
 * _TPM_Hash_Start then _TPM_Hash_End for data that is not at hand but whose digest is known per
 * algorithm (a dynamic launch copied from a real log: the HASH_START event records what the CPU's
 * HASH_END extended). Same effects as the three cycles with that data; an algorithm without a
 * given digest gets the digest of no data.
 */
export function hashStartEndDigests(state: Tpm2State, given: (algId: number) => Uint8Array | undefined): number {
  hashStart(state);
  return hashEnd(state, given);
}
