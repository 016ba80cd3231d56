/**
 * TPM 1.2 dynamic-launch cycles at locality 4 and the establishment flag, as libtpms
 * `tpm_tpm12_tis.c` implements them and swtpm's control channel (HASH_START, HASH_DATA,
 * HASH_END, RESET_TPMESTABLISHED) calls them (TPM12_IO_Hash_Start/_Data/_End,
 * TPM12_IO_TpmEstablished_Reset).
 * Each returns the TPM return code; an error puts the TPM into failure mode, as in libtpms.
 */
import { sha1 } from '../hash/index.js';
import type { Locality } from '../tpm/engine.js';
import { DRTM_PCR_FIRST, DRTM_PCR_LAST, TPM_DIGEST_SIZE, TPM_LOC, TPM_LOCALITY_4_PCR, TPM_TEST_STATE } from './constants.js';
import { localityAllowed } from './pcr-attributes.js';
import { TPM_RC12 } from './return-codes.js';
import { Sha1Stream } from './sha1-stream.js';
import type { Tpm12State } from './state.js';

function fail(s: Tpm12State, rc: number): number {
  s.testState = TPM_TEST_STATE.FAILURE;
  return rc;
}

/**
 * TPM_HASH_START: before TPM_Startup → TPM_INVALID_POSTINIT. Otherwise TOSPresent is set, PCR
 * 17–22 zeroed and a new hash context opened, and tpmEstablished is set.
 * libtpms cannot open a second context while one is pending: TPM_FAIL, the old context (and its
 * data) is kept, and — because a failed command rolls the permanent flags back from NV — the
 * tpmEstablished flag keeps its previous value, while the PCRs and TOSPresent stay changed
 * (observed on swtpm).
 */
export function hashStart(s: Tpm12State): number {
  if (s.postInitialise) return fail(s, TPM_RC12.INVALID_POSTINIT);
  s.tosPresent = true;
  for (let pcr = DRTM_PCR_FIRST; pcr <= DRTM_PCR_LAST; pcr++) s.pcrs.get(pcr)?.fill(0);
  if (s.tisHash) return fail(s, TPM_RC12.FAIL);
  s.tisHash = new Sha1Stream();
  s.tpmEstablished = true;
  return TPM_RC12.SUCCESS;
}

/** TPM_HASH_DATA: no open context → TPM_SHA_THREAD. */
export function hashData(s: Tpm12State, data: Uint8Array): number {
  if (!s.tisHash) return fail(s, TPM_RC12.SHA_THREAD);
  s.tisHash.update(data);
  return TPM_RC12.SUCCESS;
}

/** TPM_HASH_END: PCR17 = SHA1(0^20 ‖ SHA1(data)), whatever PCR17 held; the context is closed. */
export function hashEnd(s: Tpm12State): number {
  const ctx = s.tisHash;
  s.tisHash = null;
  if (!ctx) return fail(s, TPM_RC12.SHA_THREAD);
  s.pcrs.set(TPM_LOCALITY_4_PCR, sha1(new Uint8Array(TPM_DIGEST_SIZE), ctx.digest()));
  return TPM_RC12.SUCCESS;
}

/**
 * swtpm RESET_TPMESTABLISHED / libtpms `TPM12_IO_TpmEstablished_Reset`: only localities 3 and 4
 * may clear tpmEstablished; any time, even before TPM_Startup or in failure mode.
 */
export function resetEstablishment(s: Tpm12State, locality: Locality): number {
  if (!localityAllowed(TPM_LOC.THREE | TPM_LOC.FOUR, locality)) return TPM_RC12.BAD_LOCALITY;
  s.tpmEstablished = false;
  return TPM_RC12.SUCCESS;
}

/**
 * TPM_HASH_START then TPM_HASH_END for data whose SHA-1 is given instead of the data itself (a
 * dynamic launch copied from a real log): PCR 17–22 zeroed, PCR17 = SHA1(0^20 ‖ digest), exactly
 * what the three cycles give for data with that hash.
 */
export function hashStartEndDigest(s: Tpm12State, d: Uint8Array): number {
  if (d.length !== TPM_DIGEST_SIZE) throw new RangeError(`a TPM 1.2 launch digest is ${TPM_DIGEST_SIZE} bytes`);
  const rc = hashStart(s);
  if (rc !== TPM_RC12.SUCCESS) return rc;
  s.tisHash = null;
  s.pcrs.set(TPM_LOCALITY_4_PCR, sha1(new Uint8Array(TPM_DIGEST_SIZE), d));
  return TPM_RC12.SUCCESS;
}
