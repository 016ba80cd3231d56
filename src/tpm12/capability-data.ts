/**
 * TPM_GetCapability constants (TPM Main Part 2 §21) and the answers of libtpms 0.9.2 as run by
 * swtpm 0.7.1 on a fresh state. Values were read from swtpm (probing every capArea 0x00–0x20,
 * every property 0x100–0x130, every ordinal 0x0–0x1000 and the TSC range) and match libtpms'
 * constants; test/tpm12 compares them with swtpm again.
 */
import { BeWriter } from '../bytes/index.js';

/** Part 2 §21.1 TPM_CAPABILITY_AREA. */
export const TPM_CAP = {
  ORD: 0x00000001,
  ALG: 0x00000002,
  PID: 0x00000003,
  FLAG: 0x00000004,
  PROPERTY: 0x00000005,
  VERSION: 0x00000006,
  KEY_HANDLE: 0x00000007,
  CHECK_LOADED: 0x00000008,
  SYM_MODE: 0x00000009,
  KEY_STATUS: 0x0000000c,
  NV_LIST: 0x0000000d,
  MFR: 0x00000010,
  NV_INDEX: 0x00000011,
  TRANS_ALG: 0x00000012,
  HANDLE: 0x00000014,
  TRANS_ES: 0x00000015,
  AUTH_ENCRYPT: 0x00000017,
  SELECT_SIZE: 0x00000018,
  DA_LOGIC: 0x00000019,
  VERSION_VAL: 0x0000001a,
} as const;

/** Part 2 §21.2 TPM_CAP_FLAG subcaps. */
export const TPM_CAP_FLAG = {
  PERMANENT: 0x00000108,
  VOLATILE: 0x00000109,
} as const;

/** Part 2 §21.2 TPM_CAP_PROPERTY subcaps. */
export const TPM_CAP_PROP = {
  PCR: 0x00000101,
  DIR: 0x00000102,
  MANUFACTURER: 0x00000103,
  KEYS: 0x00000104,
  MIN_COUNTER: 0x00000107,
  AUTHSESS: 0x0000010a,
  TRANSESS: 0x0000010b,
  COUNTERS: 0x0000010c,
  MAX_AUTHSESS: 0x0000010d,
  MAX_TRANSESS: 0x0000010e,
  MAX_COUNTERS: 0x0000010f,
  MAX_KEYS: 0x00000110,
  OWNER: 0x00000111,
  CONTEXT: 0x00000112,
  MAX_CONTEXT: 0x00000113,
  FAMILYROWS: 0x00000114,
  TIS_TIMEOUT: 0x00000115,
  STARTUP_EFFECT: 0x00000116,
  DELEGATE_ROW: 0x00000117,
  MAX_DAASESS: 0x00000119,
  DAASESS: 0x0000011a,
  CONTEXT_DIST: 0x0000011b,
  DAA_INTERRUPT: 0x0000011c,
  SESSIONS: 0x0000011d,
  MAX_SESSIONS: 0x0000011e,
  CMK_RESTRICTION: 0x0000011f,
  DURATION: 0x00000120,
  ACTIVE_COUNTER: 0x00000122,
  MAX_NV_AVAILABLE: 0x00000123,
  INPUT_BUFFER: 0x00000124,
} as const;

/** Part 2 §4.8 TPM_ALGORITHM_ID used by the capability answers. */
export const TPM_ALG_RSA = 0x00000001;
/** TPM_KEY_PARMS.algorithmID 0: an uninitialised structure libtpms accepts. */
export const TPM_ALG_NONE = 0x00000000;

/** libtpms vendor-specific TPM_CAP_MFR subcap: the emulator's process id. */
export const TPM_CAP_MFR_PROCESS_ID = 0x00000020;

const u32s = (...v: number[]): Uint8Array => {
  const w = new BeWriter(4 * v.length);
  for (const x of v) w.u32(x);
  return w.finish();
};

/** TPM_CAP_PROPERTY answers (all constant for this engine: it never loads keys or sessions). */
export const PROPERTY_VALUES: ReadonlyMap<number, Uint8Array> = new Map([
  [TPM_CAP_PROP.PCR, u32s(24)],
  [TPM_CAP_PROP.DIR, u32s(1)],
  [TPM_CAP_PROP.MANUFACTURER, Uint8Array.of(0x49, 0x42, 0x4d, 0x00)], // "IBM\0"
  [TPM_CAP_PROP.KEYS, u32s(20)],
  [TPM_CAP_PROP.MIN_COUNTER, u32s(0)],
  [TPM_CAP_PROP.AUTHSESS, u32s(16)],
  [TPM_CAP_PROP.TRANSESS, u32s(16)],
  [TPM_CAP_PROP.COUNTERS, u32s(8)],
  [TPM_CAP_PROP.MAX_AUTHSESS, u32s(16)],
  [TPM_CAP_PROP.MAX_TRANSESS, u32s(16)],
  [TPM_CAP_PROP.MAX_COUNTERS, u32s(8)],
  [TPM_CAP_PROP.MAX_KEYS, u32s(20)],
  [TPM_CAP_PROP.OWNER, Uint8Array.of(0x00)], // BOOL
  [TPM_CAP_PROP.CONTEXT, u32s(128)],
  [TPM_CAP_PROP.MAX_CONTEXT, u32s(128)],
  [TPM_CAP_PROP.FAMILYROWS, u32s(16)],
  [TPM_CAP_PROP.TIS_TIMEOUT, u32s(1_000_000, 1_000_000, 1_000_000, 1_000_000)], // A..D in µs
  [TPM_CAP_PROP.STARTUP_EFFECT, u32s(0x00000054)],
  [TPM_CAP_PROP.DELEGATE_ROW, u32s(4)],
  [TPM_CAP_PROP.MAX_DAASESS, u32s(2)],
  [TPM_CAP_PROP.DAASESS, u32s(2)],
  [TPM_CAP_PROP.CONTEXT_DIST, u32s(0xffffffff)],
  [TPM_CAP_PROP.DAA_INTERRUPT, Uint8Array.of(0x01)], // BOOL
  [TPM_CAP_PROP.SESSIONS, u32s(32)],
  [TPM_CAP_PROP.MAX_SESSIONS, u32s(32)],
  [TPM_CAP_PROP.CMK_RESTRICTION, u32s(0)],
  [TPM_CAP_PROP.DURATION, u32s(50_000_000, 100_000_000, 300_000_000)], // small, medium, long in µs
  [TPM_CAP_PROP.ACTIVE_COUNTER, u32s(0xffffffff)], // TPM_COUNT_ID_NULL
  [TPM_CAP_PROP.MAX_NV_AVAILABLE, u32s(0x00006ffa)],
  [TPM_CAP_PROP.INPUT_BUFFER, u32s(4096)],
]);

/** TPM_CAP_VERSION: TPM_STRUCT_VER 1.1.0.0. */
export const CAP_VERSION = Uint8Array.of(0x01, 0x01, 0x00, 0x00);

/** TPM_CAP_VERSION_VAL: TPM_CAP_VERSION_INFO as libtpms 0.9.2 fills it. */
export const CAP_VERSION_VAL = new BeWriter(15)
  .u16(0x0030) // tag TPM_TAG_CAP_VERSION_INFO
  .bytes(Uint8Array.of(0x01, 0x02, 0x12, 0x9e)) // TPM_VERSION major 1, minor 2, revMajor, revMinor
  .u16(0x0002) // specLevel
  .u8(0x03) // errataRev
  .bytes(Uint8Array.of(0x49, 0x42, 0x4d, 0x00)) // tpmVendorID "IBM\0"
  .u16(0x0000) // vendorSpecificSize
  .finish();

/** TPM_CAP_DA_LOGIC: TPM_DA_INFO with no failed authorisations. */
export const CAP_DA_INFO = new BeWriter(21)
  .u16(0x0037) // tag TPM_TAG_DA_INFO
  .u8(0x00) // state TPM_DA_STATE_INACTIVE
  .u16(0x0000) // currentCount
  .u16(0x0005) // thresholdCount
  .u16(0x0039) // actionAtThreshold.tag TPM_TAG_DA_ACTION_TYPE
  .u32(0x00000001) // actionAtThreshold.actions TPM_DA_ACTION_TIMEOUT
  .u32(0x00000000) // actionDependValue
  .u32(0x00000000) // vendorDataSize
  .finish();

/** TPM_PERMANENT_FLAGS (tag 0x001F + 20 BOOLs) of a fresh libtpms state; index of tpmEstablished. */
export const PERMANENT_FLAGS_TAG = 0x001f;
export const PERMANENT_FLAGS_DEFAULT: readonly number[] = [0, 1, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0];
export const PERMANENT_FLAGS_PP_LIFETIME_LOCK = 6;
export const PERMANENT_FLAGS_PP_HW_ENABLE = 7;
export const PERMANENT_FLAGS_PP_CMD_ENABLE = 8;
export const PERMANENT_FLAGS_TPM_ESTABLISHED = 17;
/** TPM_STCLEAR_FLAGS (tag 0x0020): deactivated, disableForceClear, physicalPresence, physicalPresenceLock, bGlobalLock. */
export const STCLEAR_FLAGS_TAG = 0x0020;

/** TPM_CAP_ALG: asymmetric algorithms (TPM_ALG_RSA). */
export const SUPPORTED_ALGS: ReadonlySet<number> = new Set([TPM_ALG_RSA]);
/** TPM_CAP_PID: OIAP, OSAP, ADIP, ADCP, OWNER, DSAP, TRANSPORT. */
export const SUPPORTED_PIDS: ReadonlySet<number> = new Set([1, 2, 3, 4, 5, 6, 7]);
/** TPM_CAP_TRANS_ALG: TPM_ALG_AES128 (6), TPM_ALG_MGF1 (7). */
export const SUPPORTED_TRANS_ALGS: ReadonlySet<number> = new Set([0x00000006, 0x00000007]);
/** TPM_CAP_AUTH_ENCRYPT: TPM_ALG_AES128 (6), TPM_ALG_XOR (0x0A). */
export const SUPPORTED_AUTH_ENCRYPT: ReadonlySet<number> = new Set([0x00000006, 0x0000000a]);
/** TPM_CAP_TRANS_ES: TPM_ES_SYM_CTR (4), TPM_ES_SYM_OFB (5). */
export const SUPPORTED_TRANS_ES: ReadonlySet<number> = new Set([0x0004, 0x0005]);
/** TPM_CAP_HANDLE resource types with a (here always empty) handle list. */
export const HANDLE_RESOURCE_TYPES: ReadonlySet<number> = new Set([1, 2, 4, 5, 6, 8]);

/** TPM_CAP_ORD: every ordinal libtpms 0.9.2 implements (its ordinal table minus unused entries). */
export const LIBTPMS_ORDINALS: ReadonlySet<number> = new Set([
  0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b,
  0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x28, 0x29, 0x2a, 0x2b, 0x31, 0x32, 0x33, 0x3c,
  0x3d, 0x3e, 0x3f, 0x40, 0x41, 0x46, 0x47, 0x50, 0x53, 0x54, 0x5a, 0x5b, 0x5c, 0x5d, 0x5e, 0x65, 0x66, 0x6e,
  0x6f, 0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x78, 0x79, 0x7a, 0x7c, 0x7d, 0x7e, 0x7f, 0x80, 0x81, 0x85, 0x86,
  0x8d, 0x96, 0x97, 0x98, 0x99, 0xa0, 0xa1, 0xa2, 0xa3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc8, 0xcc,
  0xcd, 0xce, 0xcf, 0xd0, 0xd1, 0xd2, 0xd4, 0xd5, 0xd6, 0xd8, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xe0, 0xe6, 0xe7,
  0xe8, 0xf1, 0xf2, 0x4000000a, 0x4000000b,
]);
