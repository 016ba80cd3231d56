/**
 * Structure codecs (TPM 2.0 Library Part 2 §10 (structures) and §9 (interface types)),
 * with libtpms 0.9.2 `Unmarshal.c` error codes. One decode and one encode per structure.
 */
import type { BeWriter } from '../bytes/index.js';
import { TPM_ALG, type HashAlg } from '../hash/index.js';
import { LIMITS, TPM_CAP_VALUES, TPM_RH, TPM_SU } from './constants.js';
import { fault, type TpmReader } from './marshal.js';
import { TPM_RC } from './rc.js';

/** The hash algorithms the TPM implements (HASH_COUNT, in libtpms' FOR_EACH_HASH order). */
export interface HashSuite {
  readonly algs: readonly HashAlg[];
  byId(id: number): HashAlg | undefined;
}

export function hashSuite(algs: readonly HashAlg[]): HashSuite {
  const map = new Map(algs.map((a) => [a.algId, a]));
  return { algs, byId: (id) => map.get(id) };
}

// ---- interface types (Part 2 §9) -------------------------------------------------------------

/** TPMI_ALG_HASH(+): an implemented hash, or TPM_ALG_NULL when allowed; else TPM_RC_HASH. */
export function decodeAlgHash(r: TpmReader, suite: HashSuite, allowNull: boolean): number {
  const id = r.u16();
  if (suite.byId(id)) return id;
  if (id === TPM_ALG.NULL && allowNull) return id;
  return fault(TPM_RC.HASH);
}

/** TPM_SU: CLEAR or STATE, else TPM_RC_VALUE. */
export function decodeSu(r: TpmReader): number {
  const v = r.u16();
  if (v !== TPM_SU.CLEAR && v !== TPM_SU.STATE) fault(TPM_RC.VALUE);
  return v;
}

/** TPMI_YES_NO: 0 or 1, else TPM_RC_VALUE. */
export function decodeYesNo(r: TpmReader): number {
  const v = r.u8();
  if (v > 1) fault(TPM_RC.VALUE);
  return v;
}

/** TPM_CAP: one of the defined capabilities, else TPM_RC_VALUE. */
export function decodeCap(r: TpmReader): number {
  const v = r.u32();
  if (!TPM_CAP_VALUES.has(v)) fault(TPM_RC.VALUE);
  return v;
}

/** TPMI_DH_PCR(+): PCR 0..PCR_LAST, or TPM_RH_NULL when allowed; else TPM_RC_VALUE. */
export function decodeDhPcr(r: TpmReader, allowNull: boolean): number {
  const h = r.u32();
  if (h > LIMITS.PCR_LAST && !(h === TPM_RH.NULL && allowNull)) fault(TPM_RC.VALUE);
  return h;
}

/** TPMI_DH_OBJECT: transient (TRANSIENT_FIRST..TRANSIENT_LAST) or persistent; else TPM_RC_VALUE. */
export function decodeDhObject(r: TpmReader): number {
  const h = r.u32();
  const transient = h >= LIMITS.TRANSIENT_FIRST && h <= LIMITS.TRANSIENT_LAST;
  const persistent = h >= LIMITS.PERSISTENT_FIRST && h <= LIMITS.PERSISTENT_LAST;
  if (!transient && !persistent) fault(TPM_RC.VALUE);
  return h;
}

/** TPMI_DH_CONTEXT: HMAC session, policy session or transient object; else TPM_RC_VALUE. */
export function decodeDhContext(r: TpmReader): number {
  const h = r.u32();
  const ok =
    (h >= LIMITS.HMAC_SESSION_FIRST && h <= LIMITS.HMAC_SESSION_LAST) ||
    (h >= LIMITS.POLICY_SESSION_FIRST && h <= LIMITS.POLICY_SESSION_LAST) ||
    (h >= LIMITS.TRANSIENT_FIRST && h <= LIMITS.TRANSIENT_LAST);
  if (!ok) fault(TPM_RC.VALUE);
  return h;
}

/** TPMI_RH_PLATFORM: only TPM_RH_PLATFORM; else TPM_RC_VALUE. */
export function decodeRhPlatform(r: TpmReader): number {
  const h = r.u32();
  if (h !== TPM_RH.PLATFORM) fault(TPM_RC.VALUE);
  return h;
}

/** TPMI_RH_HIERARCHY(+): OWNER, PLATFORM, ENDORSEMENT, or NULL when allowed; else TPM_RC_VALUE. */
export function decodeRhHierarchy(r: TpmReader, allowNull: boolean): number {
  const h = r.u32();
  const ok = h === TPM_RH.OWNER || h === TPM_RH.PLATFORM || h === TPM_RH.ENDORSEMENT || (h === TPM_RH.NULL && allowNull);
  if (!ok) fault(TPM_RC.VALUE);
  return h;
}

/** TPMI_DH_OBJECT+: transient, persistent or TPM_RH_NULL; else TPM_RC_VALUE. */
export function decodeDhObjectOrNull(r: TpmReader): number {
  const h = r.u32();
  const transient = h >= LIMITS.TRANSIENT_FIRST && h <= LIMITS.TRANSIENT_LAST;
  const persistent = h >= LIMITS.PERSISTENT_FIRST && h <= LIMITS.PERSISTENT_LAST;
  if (!transient && !persistent && h !== TPM_RH.NULL) fault(TPM_RC.VALUE);
  return h;
}

/** TPM_RH_AUTH_00..TPM_RH_AUTH_FF (vendor authorization handles, Part 2 §7.4). */
export const TPM_RH_AUTH_00 = 0x40000010;
export const TPM_RH_AUTH_FF = 0x4000010f;

/**
 * TPMI_DH_ENTITY+: owner, endorsement, platform, lockout, transient, persistent, NV index, PCR,
 * TPM_RH_AUTH_xx, or TPM_RH_NULL; else TPM_RC_VALUE (libtpms `Unmarshal.c`).
 */
export function decodeDhEntityOrNull(r: TpmReader): number {
  const h = r.u32();
  const ok =
    h === TPM_RH.OWNER ||
    h === TPM_RH.ENDORSEMENT ||
    h === TPM_RH.PLATFORM ||
    h === TPM_RH.LOCKOUT ||
    h === TPM_RH.NULL ||
    (h >= LIMITS.TRANSIENT_FIRST && h <= LIMITS.TRANSIENT_LAST) ||
    (h >= LIMITS.PERSISTENT_FIRST && h <= LIMITS.PERSISTENT_LAST) ||
    (h >= NV_INDEX_FIRST && h <= NV_INDEX_LAST) ||
    h <= LIMITS.PCR_LAST ||
    (h >= TPM_RH_AUTH_00 && h <= TPM_RH_AUTH_FF);
  if (!ok) fault(TPM_RC.VALUE);
  return h;
}
const NV_INDEX_FIRST = 0x01000000;
const NV_INDEX_LAST = 0x01ffffff;

/** The block ciphers libtpms 0.9.2 builds, with their key sizes (AES 128/256, Camellia 128/256, TDES 128/192). */
const SYM_KEY_BITS: ReadonlyMap<number, readonly number[]> = new Map([
  [0x0006, [128, 256]],
  [0x0026, [128, 256]],
  [0x0003, [128, 192]],
]);
const SYM_XOR = 0x000a;
/** TPMI_ALG_SYM_MODE: CMAC, CTR, OFB, CBC, CFB, ECB, or TPM_ALG_NULL. */
const SYM_MODES: ReadonlySet<number> = new Set([0x003f, 0x0040, 0x0041, 0x0042, 0x0043, 0x0044, TPM_ALG.NULL]);

/**
 * TPMT_SYM_DEF+ (Part 2 §11.1.6): algorithm (else TPM_RC_SYMMETRIC), keyBits (else TPM_RC_VALUE;
 * for XOR a hash, else TPM_RC_HASH) and mode (else TPM_RC_MODE), as libtpms unmarshals them.
 */
export function decodeSymDef(r: TpmReader, suite: HashSuite): { algorithm: number; keyBits: number; mode: number } {
  const algorithm = r.u16();
  if (algorithm === TPM_ALG.NULL) return { algorithm, keyBits: 0, mode: 0 };
  if (algorithm === SYM_XOR) return { algorithm, keyBits: decodeAlgHash(r, suite, false), mode: 0 };
  const sizes = SYM_KEY_BITS.get(algorithm) ?? fault(TPM_RC.SYMMETRIC);
  const keyBits = r.u16();
  if (!sizes.includes(keyBits)) fault(TPM_RC.VALUE);
  const mode = r.u16();
  if (!SYM_MODES.has(mode)) fault(TPM_RC.MODE);
  return { algorithm, keyBits, mode };
}

// ---- TPM2B (Part 2 §10.4) ---------------------------------------------------------------------

/** Any TPM2B: u16 size (> max → TPM_RC_SIZE), then that many bytes. */
export function decodeTpm2b(r: TpmReader, max: number): Uint8Array {
  const size = r.u16();
  if (size > max) fault(TPM_RC.SIZE);
  return r.bytes(size);
}
/** TPM2B_DIGEST / TPM2B_AUTH / TPM2B_NONCE: at most sizeof(TPMU_HA) = 64 bytes. */
export const decodeTpm2bDigest = (r: TpmReader): Uint8Array => decodeTpm2b(r, LIMITS.MAX_DIGEST_SIZE);
/** TPM2B_MAX_BUFFER: at most MAX_DIGEST_BUFFER = 1024 bytes. */
export const decodeTpm2bMaxBuffer = (r: TpmReader): Uint8Array => decodeTpm2b(r, LIMITS.MAX_DIGEST_BUFFER);
/** TPM2B_EVENT: at most 1024 bytes. */
export const decodeTpm2bEvent = (r: TpmReader): Uint8Array => decodeTpm2b(r, LIMITS.MAX_EVENT_DATA);

// ---- TPMS_PCR_SELECTION / TPML_PCR_SELECTION (Part 2 §10.6.2, §10.9.7) --------------------------

export interface PcrSelection {
  hash: number;
  sizeofSelect: number;
  /** Always PCR_SELECT_MAX bytes; bytes past sizeofSelect are zero. PCR n = bit n%8 of byte n/8. */
  pcrSelect: Uint8Array;
}

/** TPMS_PCR_SELECTION: hash (no NULL), sizeofSelect in [PCR_SELECT_MIN, PCR_SELECT_MAX] else VALUE. */
export function decodePcrSelection(r: TpmReader, suite: HashSuite): PcrSelection {
  const hash = decodeAlgHash(r, suite, false);
  const sizeofSelect = r.u8();
  if (sizeofSelect < LIMITS.PCR_SELECT_MIN || sizeofSelect > LIMITS.PCR_SELECT_MAX) fault(TPM_RC.VALUE);
  const pcrSelect = new Uint8Array(LIMITS.PCR_SELECT_MAX);
  pcrSelect.set(r.bytes(sizeofSelect));
  return { hash, sizeofSelect, pcrSelect };
}

/** TPML_PCR_SELECTION: count > HASH_COUNT → TPM_RC_SIZE. */
export function decodePcrSelectionList(r: TpmReader, suite: HashSuite): PcrSelection[] {
  const count = r.u32();
  if (count > suite.algs.length) fault(TPM_RC.SIZE);
  const out: PcrSelection[] = [];
  for (let i = 0; i < count; i++) out.push(decodePcrSelection(r, suite));
  return out;
}

export function encodePcrSelectionList(w: BeWriter, list: readonly PcrSelection[]): void {
  w.u32(list.length);
  for (const s of list) {
    w.u16(s.hash).u8(s.sizeofSelect).bytes(s.pcrSelect.subarray(0, s.sizeofSelect));
  }
}

// ---- TPMT_HA / TPML_DIGEST_VALUES (Part 2 §10.3.2, §10.9.8) ---------------------------------

export interface TaggedDigest {
  hashAlg: number;
  digest: Uint8Array;
}

/** TPML_DIGEST_VALUES: count > HASH_COUNT → SIZE; each TPMT_HA: hash (no NULL) then digest bytes. */
export function decodeDigestValues(r: TpmReader, suite: HashSuite): TaggedDigest[] {
  const count = r.u32();
  if (count > suite.algs.length) fault(TPM_RC.SIZE);
  const out: TaggedDigest[] = [];
  for (let i = 0; i < count; i++) {
    const hashAlg = decodeAlgHash(r, suite, false);
    const size = suite.byId(hashAlg)?.size ?? 0;
    out.push({ hashAlg, digest: r.bytes(size) });
  }
  return out;
}

export function encodeDigestValues(w: BeWriter, list: readonly TaggedDigest[]): void {
  w.u32(list.length);
  for (const d of list) w.u16(d.hashAlg).bytes(d.digest);
}

/** TPML_DIGEST: count, then TPM2B_DIGEST each. */
export function encodeDigestList(w: BeWriter, list: readonly Uint8Array[]): void {
  w.u32(list.length);
  for (const d of list) w.sized16(d);
}
