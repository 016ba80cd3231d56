/**
 * TPM 1.2 constants: tags, ordinals, startup types, capability areas and sizes.
 * TCG TPM Main Specification 1.2 rev 116, Part 2 (structures) §§ 6, 17, 21.
 * Values as in libtpms 0.9.2 `tpm_constants.h`, the reference this engine is byte-identical to.
 */

/** Part 2 §6 TPM_TAG. */
export const TPM_TAG = {
  RQU_COMMAND: 0x00c1,
  RQU_AUTH1_COMMAND: 0x00c2,
  RQU_AUTH2_COMMAND: 0x00c3,
  RSP_COMMAND: 0x00c4,
  RSP_AUTH1_COMMAND: 0x00c5,
  RSP_AUTH2_COMMAND: 0x00c6,
} as const;

/** Part 2 §17 TPM_COMMAND_CODE, only the ordinals this engine handles itself. */
export const TPM_ORD = {
  OIAP: 0x0000000a,
  Extend: 0x00000014,
  PcrRead: 0x00000015,
  GetRandom: 0x00000046,
  SelfTestFull: 0x00000050,
  ContinueSelfTest: 0x00000053,
  GetTestResult: 0x00000054,
  GetCapability: 0x00000065,
  Init: 0x00000097,
  SaveState: 0x00000098,
  Startup: 0x00000099,
  SHA1Start: 0x000000a0,
  SHA1Update: 0x000000a1,
  SHA1Complete: 0x000000a2,
  SHA1CompleteExtend: 0x000000a3,
  PCR_Reset: 0x000000c8,
  TSC_PhysicalPresence: 0x4000000a,
  TSC_ResetEstablishmentBit: 0x4000000b,
} as const;

/** Part 2 §17.2 TPM_STARTUP_TYPE. */
export const TPM_ST = {
  CLEAR: 0x0001,
  STATE: 0x0002,
  DEACTIVATED: 0x0003,
} as const;

/** Header sizes (Part 3 command layouts): tag u16, paramSize u32, ordinal/returnCode u32. */
export const TPM12_HEADER_SIZE = 10;
export const TPM_DIGEST_SIZE = 20;
export const TPM_NUM_PCR = 24;

/** libtpms TPM_BUFFER_MAX: the command/response buffer (TPM_CAP_PROP_INPUT_BUFFER). */
export const TPM12_BUFFER_SIZE = 4096;
/** libtpms TPM_SHA1_MAXNUMBYTES = buffer − 64. */
export const TPM_SHA1_MAXNUMBYTES = TPM12_BUFFER_SIZE - 64;
/** libtpms TPM_RANDOM_MAX = buffer − tag − paramSize − returnCode − randomBytesSize. */
export const TPM_RANDOM_MAX = TPM12_BUFFER_SIZE - 2 - 4 - 4 - 4;
/** libtpms TPM_ALLOC_MAX: a sized buffer announcing more than this answers TPM_SIZE. */
export const TPM_ALLOC_MAX = 0x20000;
/** Largest final block accepted by SHA1Complete / SHA1CompleteExtend (Part 3 §13.3, §13.4). */
export const TPM_SHA1_FINAL_MAX = 64;
/** SHA-1 block size: SHA1Update takes whole blocks only (Part 3 §13.2). */
export const SHA1_BLOCK_SIZE = 64;

/** libtpms self-test state (`tpm_global.h` TPM_TEST_STATE_*). GetTestResult reports it. */
export const TPM_TEST_STATE = {
  LIMITED: 1,
  FULL: 2,
  FAILURE: 3,
} as const;
export type TpmTestState = (typeof TPM_TEST_STATE)[keyof typeof TPM_TEST_STATE];

/** Part 2 §8.6 TPM_LOCALITY_SELECTION bits. */
export const TPM_LOC = {
  ZERO: 0x01,
  ONE: 0x02,
  TWO: 0x04,
  THREE: 0x08,
  FOUR: 0x10,
} as const;

/** Part 2 §4.9 TPM_PHYSICAL_PRESENCE bits. */
export const TPM_PHYSICAL_PRESENCE = {
  LOCK: 0x0004,
  PRESENT: 0x0008,
  NOTPRESENT: 0x0010,
  CMD_ENABLE: 0x0020,
  HW_ENABLE: 0x0040,
  LIFETIME_LOCK: 0x0080,
  CMD_DISABLE: 0x0100,
  HW_DISABLE: 0x0200,
} as const;

/** PC Client: PCR 17 is the locality-4 PCR written by HASH_END (libtpms `TPM12_IO_Hash_End`). */
export const TPM_LOCALITY_4_PCR = 17;
/** PCRs a dynamic launch (HASH_START) sets to zero (libtpms `TPM12_IO_Hash_Start`). */
export const DRTM_PCR_FIRST = 17;
export const DRTM_PCR_LAST = 22;
