/**
 * TPM 2.0 engine (TPM 2.0 Library, libtpms 0.9.2 behaviour as `swtpm --tpm2` shows it).
 */
export { createTpm2, Tpm2Engine, type Tpm2Options } from './engine.js';
export { decodeRc, rcName, rcSafeAdd, TPM_RC, TPM_BAD_LOCALITY, RC_FMT1, RC_H, RC_P, RC_S, RC_1, type DecodedRc, type TpmRcName } from './rc.js';
export { TPM_CAP, TPM_CC, TPM_HT, TPM_PT, TPM_PT_PCR, TPM_RH, TPM_RS_PW, TPM_ST, TPM_SU, LIMITS, type TpmCcName } from './constants.js';
export { PCR_ATTRIBUTES, isExtendAllowed, isResetAllowed, type PcrAttributes } from './pcr.js';
export {
  decodeDigestValues,
  decodePcrSelectionList,
  encodeDigestValues,
  encodePcrSelectionList,
  hashSuite,
  type PcrSelection,
  type TaggedDigest,
  type HashSuite,
} from './structures.js';
export { TpmReader, RcFault } from './marshal.js';
export { LIBTPMS_HASHES, type Tpm2Snapshot } from './state.js';
