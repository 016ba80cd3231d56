/**
 * TPM 1.2 engine (TPM Main Specification 1.2 rev 116, TCG PC Client TIS 1.21), byte-identical to
 * libtpms 0.9.2 / swtpm 0.7.1 for the supported commands.
 */
export { Tpm12Engine, createTpm12, type CreateTpm12Options } from './engine.js';
export { returnCodeName, TPM_RC12, Tpm12Error, type Tpm12ReturnCodeName } from './return-codes.js';
export {
  TPM_TAG,
  TPM_ORD,
  TPM_ST,
  TPM_LOC,
  TPM_PHYSICAL_PRESENCE,
  TPM_TEST_STATE,
  TPM12_BUFFER_SIZE,
  TPM12_HEADER_SIZE,
  TPM_SHA1_MAXNUMBYTES,
  TPM_RANDOM_MAX,
  TPM_DIGEST_SIZE,
  TPM_NUM_PCR,
} from './constants.js';
export { TPM_CAP, TPM_CAP_FLAG, TPM_CAP_PROP, LIBTPMS_ORDINALS } from './capability-data.js';
export { PCR_ATTRIBUTES, pcrAttributes, localityAllowed, type PcrAttributes } from './pcr-attributes.js';
export { TPM12_IMPLEMENTED_ORDINALS } from './dispatch.js';
export { parseRequestHeader, responseTagFor, type RequestHeader } from './header.js';
export { TPM12_SNAPSHOT_VERSION, type Tpm12Snapshot } from './snapshot.js';
export { Sha1Stream, type Sha1StreamSnapshot } from './sha1-stream.js';
