/**
 * TPM 2.0 constants (TPM 2.0 Library Part 2, "Constants"; ms-tpm-20-ref `TpmTypes.h`), with the values and
 * implementation limits of libtpms 0.9.2 (`TpmProfile.h`), which is what `swtpm --tpm2` runs.
 */

/** TPM_ST (Part 2 §6.9). Every value libtpms' TPM_ST unmarshaller accepts. */
export const TPM_ST = {
  RSP_COMMAND: 0x00c4,
  NULL: 0x8000,
  NO_SESSIONS: 0x8001,
  SESSIONS: 0x8002,
  ATTEST_NV: 0x8014,
  ATTEST_COMMAND_AUDIT: 0x8015,
  ATTEST_SESSION_AUDIT: 0x8016,
  ATTEST_CERTIFY: 0x8017,
  ATTEST_QUOTE: 0x8018,
  ATTEST_TIME: 0x8019,
  ATTEST_CREATION: 0x801a,
  CREATION: 0x8021,
  VERIFIED: 0x8022,
  AUTH_SECRET: 0x8023,
  HASHCHECK: 0x8024,
  AUTH_SIGNED: 0x8025,
} as const;
export const TPM_ST_VALUES: ReadonlySet<number> = new Set(Object.values(TPM_ST));

/** TPM_CC (Part 2 §6.5.2) — the commands this engine implements. */
export const TPM_CC = {
  PCR_Allocate: 0x0000012b,
  PCR_Event: 0x0000013c,
  PCR_Reset: 0x0000013d,
  SequenceComplete: 0x0000013e,
  SelfTest: 0x00000143,
  Startup: 0x00000144,
  Shutdown: 0x00000145,
  SequenceUpdate: 0x0000015c,
  FlushContext: 0x00000165,
  StartAuthSession: 0x00000176,
  GetCapability: 0x0000017a,
  GetRandom: 0x0000017b,
  GetTestResult: 0x0000017c,
  Hash: 0x0000017d,
  PCR_Read: 0x0000017e,
  PCR_Extend: 0x00000182,
  EventSequenceComplete: 0x00000185,
  HashSequenceStart: 0x00000186,
} as const;
export type TpmCcName = keyof typeof TPM_CC;

/** TPM_RH / TPM_RS permanent handles (Part 2 §7.4). */
export const TPM_RH = {
  OWNER: 0x40000001,
  NULL: 0x40000007,
  UNASSIGNED: 0x40000008,
  LOCKOUT: 0x4000000a,
  ENDORSEMENT: 0x4000000b,
  PLATFORM: 0x4000000c,
} as const;
export const TPM_RS_PW = 0x40000009;

/** TPM_HT handle types (Part 2 §7.2): the top byte of a handle. */
export const TPM_HT = {
  PCR: 0x00,
  NV_INDEX: 0x01,
  HMAC_SESSION: 0x02,
  POLICY_SESSION: 0x03,
  PERMANENT: 0x40,
  TRANSIENT: 0x80,
  PERSISTENT: 0x81,
} as const;
export function handleType(h: number): number {
  return h >>> 24;
}

/** TPMA_CC.commandIndex (bits 15:0, Part 2 §8.9): a TPM_CC without its vendor bit CC_VEND (Part 2 §6.5.2). */
export const CC_INDEX_MASK = 0x0000ffff;

/** TPM_SU (Part 2 §6.11); SU_NONE is libtpms' "not orderly" marker for gp.orderlyState. */
export const TPM_SU = { CLEAR: 0x0000, STATE: 0x0001 } as const;
export const SU_NONE_VALUE = 0xffff;
/** libtpms flags or-ed into orderlyState by Shutdown(STATE). */
export const PRE_STARTUP_FLAG = 0x8000;
export const STARTUP_LOCALITY_3 = 0x4000;

/** TPM_CAP (Part 2 §6.12). */
export const TPM_CAP = {
  ALGS: 0x00000000,
  HANDLES: 0x00000001,
  COMMANDS: 0x00000002,
  PP_COMMANDS: 0x00000003,
  AUDIT_COMMANDS: 0x00000004,
  PCRS: 0x00000005,
  TPM_PROPERTIES: 0x00000006,
  PCR_PROPERTIES: 0x00000007,
  ECC_CURVES: 0x00000008,
  AUTH_POLICIES: 0x00000009,
  ACT: 0x0000000a,
  VENDOR_PROPERTY: 0x00000100,
} as const;
export const TPM_CAP_VALUES: ReadonlySet<number> = new Set(Object.values(TPM_CAP));

/** TPM_PT groups (Part 2 §6.13) and the variable properties whose values depend on state. */
export const PT_GROUP = 0x00000100;
export const PT_FIXED = PT_GROUP * 1;
export const PT_VAR = PT_GROUP * 2;
export const TPM_PT = {
  TOTAL_COMMANDS: PT_FIXED + 41,
  LIBRARY_COMMANDS: PT_FIXED + 42,
  PERMANENT: PT_VAR + 0,
  STARTUP_CLEAR: PT_VAR + 1,
  HR_LOADED: PT_VAR + 3,
  HR_LOADED_AVAIL: PT_VAR + 4,
  HR_ACTIVE: PT_VAR + 5,
  HR_ACTIVE_AVAIL: PT_VAR + 6,
  HR_TRANSIENT_AVAIL: PT_VAR + 7,
} as const;

/** TPM_PT_PCR (Part 2 §6.14). */
export const TPM_PT_PCR = {
  SAVE: 0x00,
  EXTEND_L0: 0x01,
  RESET_L0: 0x02,
  EXTEND_L1: 0x03,
  RESET_L1: 0x04,
  EXTEND_L2: 0x05,
  RESET_L2: 0x06,
  EXTEND_L3: 0x07,
  RESET_L3: 0x08,
  EXTEND_L4: 0x09,
  RESET_L4: 0x0a,
  NO_INCREMENT: 0x11,
  DRTM_RESET: 0x12,
  POLICY: 0x13,
  AUTH: 0x14,
} as const;
export const TPM_PT_PCR_LAST = TPM_PT_PCR.AUTH;

/** TPMA_SESSION bits (Part 2 §8.4). */
export const TPMA_SESSION = {
  continueSession: 0x01,
  auditExclusive: 0x02,
  auditReset: 0x04,
  reserved: 0x18,
  decrypt: 0x20,
  encrypt: 0x40,
  audit: 0x80,
} as const;

/** TPM_GENERATED_VALUE (Part 2 §6.2): data starting with it never gets a hash-check ticket. */
export const TPM_GENERATED_VALUE = 0xff544347;

/** libtpms 0.9.2 implementation limits (`TpmProfile.h`). */
export const LIMITS = {
  IMPLEMENTATION_PCR: 24,
  PCR_SELECT_MIN: 3,
  PCR_SELECT_MAX: 3,
  MAX_LOADED_OBJECTS: 3,
  MAX_SESSION_NUM: 3,
  MAX_DIGEST_BUFFER: 1024,
  /** sizeof(TPM2B_EVENT.buffer) */
  MAX_EVENT_DATA: 1024,
  /** sizeof(TPMU_HA): largest digest, bound of TPM2B_DIGEST / TPM2B_AUTH / TPM2B_NONCE / GetRandom */
  MAX_DIGEST_SIZE: 64,
  /** TPM2_GetBufferSize() default in libtpms / swtpm */
  MAX_COMMAND_SIZE: 4096,
  DRTM_PCR: 17,
  HCRTM_PCR: 0,
  PCR_LAST: 23,
  TRANSIENT_FIRST: 0x80000000,
  /** TRANSIENT_FIRST + MAX_LOADED_OBJECTS - 1 */
  TRANSIENT_LAST: 0x80000002,
  PERSISTENT_FIRST: 0x81000000,
  PERSISTENT_LAST: 0x81ffffff,
  HMAC_SESSION_FIRST: 0x02000000,
  /** HMAC_SESSION_FIRST + MAX_ACTIVE_SESSIONS(64) - 1 */
  HMAC_SESSION_LAST: 0x0200003f,
  POLICY_SESSION_FIRST: 0x03000000,
  POLICY_SESSION_LAST: 0x0300003f,
  /** MAX_CAP_DATA / sizeof(element) as libtpms computes them (MAX_CAP_BUFFER 1024). */
  MAX_CAP_HANDLES: 254,
  MAX_CAP_CC: 254,
  MAX_CAP_ALGS: 127,
  MAX_TPM_PROPERTIES: 127,
  MAX_PCR_PROPERTIES: 127,
  /** MAX_CAP_DATA (1016) / sizeof(TPM_ECC_CURVE) (2) */
  MAX_ECC_CURVES: 508,
  /** MAX_CAP_DATA (1016) / sizeof(TPMS_TAGGED_POLICY) (72: handle + TPMT_HA, padded) */
  MAX_TAGGED_POLICIES: 14,
} as const;
