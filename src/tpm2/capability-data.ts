/**
 * Capability data recorded from the reference peer, swtpm 0.7.1 / libtpms 0.9.2
 * (TPM 2.0 Library Part 2 §6.13 TPM_PT, §8.2 TPMA_ALGORITHM). These are facts about the TPM
 * model being emulated (vendor strings, firmware version, limits), captured once with
 * GetCapability on a fresh `swtpm socket --tpm2` and kept as data; the state-dependent
 * values are recomputed by capability.ts.
 */

/** TPML_ALG_PROPERTY of libtpms 0.9.2: [TPM_ALG_ID, TPMA_ALGORITHM] (probed: swtpm GetCapability(TPM_CAP_ALGS)). */
export const LIBTPMS_ALGS: readonly (readonly [number, number])[] = [
  [0x0001, 0x00000009],
  [0x0003, 0x00000002],
  [0x0004, 0x00000004],
  [0x0005, 0x00000104],
  [0x0006, 0x00000002],
  [0x0007, 0x00000404],
  [0x0008, 0x0000030c],
  [0x000a, 0x00000006],
  [0x000b, 0x00000004],
  [0x000c, 0x00000004],
  [0x000d, 0x00000004],
  [0x0014, 0x00000101],
  [0x0015, 0x00000201],
  [0x0016, 0x00000101],
  [0x0017, 0x00000201],
  [0x0018, 0x00000101],
  [0x0019, 0x00000401],
  [0x001a, 0x00000101],
  [0x001b, 0x00000501],
  [0x001c, 0x00000101],
  [0x001d, 0x00000401],
  [0x0020, 0x00000404],
  [0x0021, 0x00000404],
  [0x0022, 0x00000404],
  [0x0023, 0x00000009],
  [0x0025, 0x00000008],
  [0x0026, 0x00000002],
  [0x003f, 0x00000102],
  [0x0040, 0x00000202],
  [0x0041, 0x00000202],
  [0x0042, 0x00000202],
  [0x0043, 0x00000202],
  [0x0044, 0x00000202],
];
/** TPM_PT_FIXED group of swtpm 0.7.1 / libtpms 0.9.2: [TPM_PT, value] (probed: GetCapability(TPM_CAP_TPM_PROPERTIES, 0x100)). */
export const LIBTPMS_FIXED_PROPERTIES: readonly (readonly [number, number])[] = [
  [0x00000100, 0x322e3000],
  [0x00000101, 0x00000000],
  [0x00000102, 0x000000a4],
  [0x00000103, 0x0000004b],
  [0x00000104, 0x000007e5],
  [0x00000105, 0x49424d00],
  [0x00000106, 0x53572020],
  [0x00000107, 0x2054504d],
  [0x00000108, 0x00000000],
  [0x00000109, 0x00000000],
  [0x0000010a, 0x00000001],
  [0x0000010b, 0x20191023],
  [0x0000010c, 0x00163636],
  [0x0000010d, 0x00000400],
  [0x0000010e, 0x00000003],
  [0x0000010f, 0x00000007],
  [0x00000110, 0x00000003],
  [0x00000111, 0x00000040],
  [0x00000112, 0x00000018],
  [0x00000113, 0x00000003],
  [0x00000114, 0x0000ffff],
  [0x00000116, 0x00000000],
  [0x00000117, 0x00000800],
  [0x00000118, 0x00000006],
  [0x00000119, 0x00001000],
  [0x0000011a, 0x0000000d],
  [0x0000011b, 0x00000006],
  [0x0000011c, 0x00000100],
  [0x0000011d, 0x000000ff],
  [0x0000011e, 0x00001000],
  [0x0000011f, 0x00001000],
  [0x00000120, 0x00000040],
  [0x00000121, 0x00000a84],
  [0x00000122, 0x00000194],
  [0x00000123, 0x322e3000],
  [0x00000124, 0x00000000],
  [0x00000125, 0x000000a4],
  [0x00000126, 0x0000004b],
  [0x00000127, 0x000007e5],
  [0x00000128, 0x00000080],
  [0x00000129, 0x0000006e],
  [0x0000012a, 0x0000006e],
  [0x0000012b, 0x00000000],
  [0x0000012c, 0x00000400],
  [0x0000012d, 0x00000000],
  [0x0000012e, 0x00000400],
];
/** TPM_PT_VAR group on a fresh swtpm after Startup(CLEAR): [TPM_PT, value]; state-dependent ones are recomputed. */
export const LIBTPMS_VAR_PROPERTIES: readonly (readonly [number, number])[] = [
  [0x00000200, 0x00000400],
  [0x00000201, 0x8000000f],
  [0x00000202, 0x00000000],
  [0x00000203, 0x00000000],
  [0x00000204, 0x00000003],
  [0x00000205, 0x00000000],
  [0x00000206, 0x00000040],
  [0x00000207, 0x00000003],
  [0x00000208, 0x00000000],
  [0x00000209, 0x00000041],
  [0x0000020a, 0x00000000],
  [0x0000020b, 0x00000019],
  [0x0000020c, 0x00000000],
  [0x0000020d, 0x00000008],
  [0x0000020e, 0x00000000],
  [0x0000020f, 0x00000003],
  [0x00000210, 0x000003e8],
  [0x00000211, 0x000003e8],
  [0x00000212, 0x00000000],
  [0x00000213, 0x00000000],
  [0x00000214, 0x00000000],
];

/** TPMA_ALGORITHM.hash: what an SM3_256 entry gets when this engine implements SM3 (libtpms does not). */
export const TPMA_ALGORITHM_HASH = 0x00000004;

/** TPM_ECC_CURVE list of libtpms 0.9.2 (probed: GetCapability(TPM_CAP_ECC_CURVES)). */
export const LIBTPMS_ECC_CURVES: readonly number[] = [0x0001, 0x0002, 0x0003, 0x0004, 0x0005, 0x0010, 0x0011, 0x0020];

/** Commands that need physical presence by default: TPM2_PP_Commands (probed: TPM_CAP_PP_COMMANDS). */
export const LIBTPMS_PP_COMMANDS: readonly number[] = [0x0000012d];
/** Commands audited by default: TPM2_SetCommandCodeAuditStatus (probed: TPM_CAP_AUDIT_COMMANDS). */
export const LIBTPMS_AUDIT_COMMANDS: readonly number[] = [0x00000140];

/** Permanent handles (probed: TPM_CAP_HANDLES from 0x40000000). */
export const LIBTPMS_PERMANENT_HANDLES: readonly number[] = [0x40000001, 0x40000007, 0x40000009, 0x4000000a, 0x4000000b, 0x4000000c, 0x4000000d];
/** Permanent handles that carry an auth policy (all empty: TPMT_HA with TPM_ALG_NULL) (probed: TPM_CAP_AUTH_POLICIES). */
export const LIBTPMS_POLICY_HANDLES: readonly number[] = [0x40000001, 0x4000000a, 0x4000000b, 0x4000000c];
/** TPM_RH_ACT_0 .. TPM_RH_ACT_F: TPM_CAP_ACT accepts only this range (and libtpms reports no ACT). */
export const TPM_RH_ACT_0 = 0x40000110;
export const TPM_RH_ACT_F = 0x4000011f;
/** TPMA_PERMANENT.tpmGeneratedEPS — the only permanent flag set on a fresh libtpms TPM. */
export const TPMA_PERMANENT_TPM_GENERATED_EPS = 0x00000400;
/** TPMA_STARTUP_CLEAR: phEnable | shEnable | ehEnable | phEnableNV, and orderly (bit 31). */
export const TPMA_STARTUP_CLEAR_ENABLES = 0x0000000f;
export const TPMA_STARTUP_CLEAR_ORDERLY = 0x80000000;
