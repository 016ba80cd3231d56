/**
 * Entities that handles name (libtpms 0.9.2 `Entity.c`, `SessionProcess.c` IsDAExempted,
 * `Session.c` SessionComputeBoundEntity): their Name, authValue and DA exemption, for the
 * entities this TPM has — PCRs, permanent handles (all with an empty authValue and policy) and
 * sequence objects.
 */
import { BeWriter } from '../bytes/index.js';
import { handleType, TPM_HT, TPM_RH } from './constants.js';
import { NAME_BUFFER_SIZE } from './sessions.js';
import type { Tpm2State } from './state.js';

/** EntityGetName: a sequence object has no nameAlg, so an empty Name; other handles name themselves. */
export function entityName(state: Tpm2State, handle: number): Uint8Array {
  if (handleType(handle) === TPM_HT.TRANSIENT && state.objects.isPresent(handle)) return new Uint8Array(0);
  return new BeWriter(4).u32(handle).finish();
}

/** EntityGetAuthValue (trailing zeros removed): a sequence's auth; every other entity here has EmptyAuth. */
export function entityAuthValue(state: Tpm2State, handle: number): Uint8Array {
  if (handleType(handle) === TPM_HT.TRANSIENT) return state.objects.get(handle)?.auth ?? new Uint8Array(0);
  return new Uint8Array(0);
}

/** IsDAExempted: permanent handles but lockout, PCRs and sequence objects (noDA) are exempt. */
export function isDaExempted(handle: number): boolean {
  const t = handleType(handle);
  if (t === TPM_HT.PERMANENT) return handle !== TPM_RH.LOCKOUT;
  return t === TPM_HT.PCR || t === TPM_HT.TRANSIENT;
}

/** SessionComputeBoundEntity: Name zero-padded to sizeof(TPMU_NAME), authValue XOR-ed into its end. */
export function boundEntity(state: Tpm2State, handle: number): Uint8Array {
  const out = new Uint8Array(NAME_BUFFER_SIZE);
  out.set(entityName(state, handle));
  const auth = entityAuthValue(state, handle);
  auth.forEach((b, i) => {
    const at = NAME_BUFFER_SIZE - auth.length + i;
    out[at] = (out[at] ?? 0) ^ b;
  });
  return out;
}
