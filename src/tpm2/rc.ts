/**
 * TPM_RC response codes (TPM 2.0 Library Part 2 §6.6; ms-tpm-20-ref `TpmTypes.h`) and a decoder that says which
 * handle, parameter or session a format-1 code blames.
 */

/** Format-0 (VER1 = 0x100) codes and format-1 (FMT1 = 0x080) base codes and warnings. */
export const TPM_RC = {
  SUCCESS: 0x000,
  BAD_TAG: 0x01e,
  // format 0
  INITIALIZE: 0x100,
  FAILURE: 0x101,
  SEQUENCE: 0x103,
  DISABLED: 0x120,
  EXCLUSIVE: 0x121,
  AUTH_TYPE: 0x124,
  AUTH_MISSING: 0x125,
  POLICY: 0x126,
  PCR: 0x127,
  PCR_CHANGED: 0x128,
  UPGRADE: 0x12d,
  TOO_MANY_CONTEXTS: 0x12e,
  AUTH_UNAVAILABLE: 0x12f,
  REBOOT: 0x130,
  UNBALANCED: 0x131,
  COMMAND_SIZE: 0x142,
  COMMAND_CODE: 0x143,
  AUTHSIZE: 0x144,
  AUTH_CONTEXT: 0x145,
  NV_RANGE: 0x146,
  NV_SIZE: 0x147,
  NV_LOCKED: 0x148,
  NV_AUTHORIZATION: 0x149,
  NV_UNINITIALIZED: 0x14a,
  NV_SPACE: 0x14b,
  NV_DEFINED: 0x14c,
  BAD_CONTEXT: 0x150,
  CPHASH: 0x151,
  PARENT: 0x152,
  NEEDS_TEST: 0x153,
  NO_RESULT: 0x154,
  SENSITIVE: 0x155,
  // format 1
  ASYMMETRIC: 0x081,
  ATTRIBUTES: 0x082,
  HASH: 0x083,
  VALUE: 0x084,
  HIERARCHY: 0x085,
  KEY_SIZE: 0x087,
  MGF: 0x088,
  MODE: 0x089,
  TYPE: 0x08a,
  HANDLE: 0x08b,
  KDF: 0x08c,
  RANGE: 0x08d,
  AUTH_FAIL: 0x08e,
  NONCE: 0x08f,
  PP: 0x090,
  SCHEME: 0x092,
  SIZE: 0x095,
  SYMMETRIC: 0x096,
  TAG: 0x097,
  SELECTOR: 0x098,
  INSUFFICIENT: 0x09a,
  SIGNATURE: 0x09b,
  KEY: 0x09c,
  POLICY_FAIL: 0x09d,
  INTEGRITY: 0x09f,
  TICKET: 0x0a0,
  RESERVED_BITS: 0x0a1,
  BAD_AUTH: 0x0a2,
  EXPIRED: 0x0a3,
  POLICY_CC: 0x0a4,
  BINDING: 0x0a5,
  CURVE: 0x0a6,
  ECC_POINT: 0x0a7,
  // warnings (0x900)
  CONTEXT_GAP: 0x901,
  OBJECT_MEMORY: 0x902,
  SESSION_MEMORY: 0x903,
  MEMORY: 0x904,
  SESSION_HANDLES: 0x905,
  OBJECT_HANDLES: 0x906,
  LOCALITY: 0x907,
  YIELDED: 0x908,
  CANCELED: 0x909,
  TESTING: 0x90a,
  REFERENCE_H0: 0x910,
  REFERENCE_S0: 0x918,
  NV_RATE: 0x920,
  LOCKOUT: 0x921,
  RETRY: 0x922,
  NV_UNAVAILABLE: 0x923,
} as const;
export type TpmRcName = keyof typeof TPM_RC;

/** Format-1 qualifiers: H = handle, P = parameter, S = session; N × RC_1 gives the index. */
export const RC_FMT1 = 0x080;
export const RC_H = 0x000;
export const RC_P = 0x040;
export const RC_S = 0x800;
export const RC_1 = 0x100;
const RC_WARN = 0x900;

/** TPM 1.2 TPM_BAD_LOCALITY: what libtpms' TPM2 control-channel ops return (libtpms `tpm_error.h`). */
export const TPM_BAD_LOCALITY = 0x3d;

const NAMES = new Map<number, string>(Object.entries(TPM_RC).map(([k, v]) => [v, `TPM_RC_${k}`]));

export interface DecodedRc {
  rc: number;
  /** The base code (qualifiers removed), e.g. 0x084 for 0x1C4. */
  base: number;
  name: string;
  format: 'success' | 'format0' | 'format1' | 'warning' | 'vendor' | 'tpm12';
  handle?: number;
  parameter?: number;
  session?: number;
}

/** Split a response code into its base and the handle/parameter/session it blames. */
export function decodeRc(rc: number): DecodedRc {
  if (rc === 0) return { rc, base: 0, name: 'TPM_RC_SUCCESS', format: 'success' };
  if (rc === TPM_RC.BAD_TAG) return { rc, base: rc, name: 'TPM_RC_BAD_TAG', format: 'format0' };
  if ((rc & RC_FMT1) !== 0) {
    const base = (rc & 0x3f) | RC_FMT1;
    const n = (rc >>> 8) & 0xf;
    const name = NAMES.get(base) ?? `TPM_RC_0x${base.toString(16).padStart(3, '0')}`;
    const out: DecodedRc = { rc, base, name, format: 'format1' };
    if ((rc & RC_P) !== 0) out.parameter = n;
    else if ((rc & RC_S) !== 0) out.session = n & 0x7;
    else if (n !== 0) out.handle = n;
    return out;
  }
  if ((rc & 0xf00) === RC_WARN || (rc & 0xf00) === 0x100) {
    if ((rc & 0xff8) === TPM_RC.REFERENCE_S0) return { rc, base: TPM_RC.REFERENCE_S0, name: 'TPM_RC_REFERENCE_S0', format: 'warning', session: (rc & 0x7) + 1 };
    if ((rc & 0xff8) === TPM_RC.REFERENCE_H0) return { rc, base: TPM_RC.REFERENCE_H0, name: 'TPM_RC_REFERENCE_H0', format: 'warning', handle: (rc & 0x7) + 1 };
    const name = NAMES.get(rc) ?? `TPM_RC_0x${rc.toString(16).padStart(3, '0')}`;
    return { rc, base: rc, name, format: (rc & 0xf00) === RC_WARN ? 'warning' : 'format0' };
  }
  if ((rc & 0x400) !== 0) return { rc, base: rc, name: `TPM_RC_VENDOR_0x${rc.toString(16)}`, format: 'vendor' };
  return { rc, base: rc, name: `TPM12_0x${rc.toString(16)}`, format: 'tpm12' };
}

/** Human-readable name with its qualifier, e.g. `TPM_RC_VALUE + P1`, `TPM_RC_REFERENCE_H0 + H1`. */
export function rcName(rc: number): string {
  const d = decodeRc(rc);
  if (d.handle !== undefined) return `${d.name} (handle ${d.handle})`;
  if (d.parameter !== undefined) return `${d.name} (parameter ${d.parameter})`;
  if (d.session !== undefined) return `${d.name} (session ${d.session})`;
  return d.name;
}

/**
 * libtpms `RcSafeAddToResult`: a qualifier is only added to format-1 codes; warnings and
 * format-0 codes are passed through unchanged.
 */
export function rcSafeAdd(rc: number, qualifier: number): number {
  return (rc & RC_FMT1) !== 0 ? rc + qualifier : rc;
}
