/**
 * Authorization sessions (TPM 2.0 Library Part 1 §19; libtpms 0.9.2 `Session.c`): HMAC, policy and
 * trial sessions created by TPM2_StartAuthSession, their slots and handles, the session key
 * (KDFa, Part 1 §11.4.10.2) and parameter encryption (Part 1 §21; libtpms `CryptUtil.c`
 * CryptParameterEncryption/Decryption, ParmEncryptSym, CryptXORObfuscation).
 *
 * Slots and handles as libtpms: MAX_LOADED_SESSIONS = 3 session slots (s_sessions) and a context
 * array of MAX_ACTIVE_SESSIONS = 64 entries (gr.contextArray: 0 = free, else slot + 1). A new
 * session takes the lowest free slot and the lowest free context entry; its handle is
 * HMAC_SESSION_FIRST or POLICY_SESSION_FIRST + that entry. Lookups use the entry only (libtpms
 * SessionIsLoaded/SessionGet), so 0x03000000 names an HMAC session in entry 0 as well — the callers
 * check the type where libtpms does. This TPM has no TPM2_ContextSave, so every active session is
 * loaded.
 */
import { createCipheriv, createDecipheriv, createHmac } from 'node:crypto';
import { BeWriter } from '../bytes/index.js';
import { algById, TPM_ALG } from '../hash/index.js';
import { LIMITS } from './constants.js';

export const MAX_LOADED_SESSIONS = 3;
export const MAX_ACTIVE_SESSIONS = 64;
/** sizeof(TPMU_NAME) in libtpms: sizeof(TPMT_HA) with SHA-512 = 2 + 64. */
export const NAME_BUFFER_SIZE = 66;

/** TPM_SE (Part 2 §6.11). */
export const TPM_SE = { HMAC: 0x00, POLICY: 0x01, TRIAL: 0x03 } as const;

/** Symmetric algorithms of TPMT_SYM_DEF that libtpms 0.9.2 builds (Part 2 §6.3; `TpmProfile.h`). */
export const SYM_ALG = { TDES: 0x0003, XOR: 0x000a, AES: 0x0006, CFB: 0x0043, CAMELLIA: 0x0026, NULL: TPM_ALG.NULL } as const;

export interface SymDef {
  algorithm: number;
  /** keyBits, or the hash algorithm for TPM_ALG_XOR; 0 for TPM_ALG_NULL. */
  keyBits: number;
  /** mode (TPM_ALG_CFB for a block cipher); 0 for XOR / NULL. */
  mode: number;
}

export interface AuthSessionState {
  type: 'hmac' | 'policy' | 'trial';
  /** TPM_ALG_ID of the session hash. */
  authHash: number;
  nonceTPM: Uint8Array;
  /** Empty for an unbound, unsalted session. */
  sessionKey: Uint8Array;
  symmetric: SymDef;
  /** SessionComputeBoundEntity of the bind entity (HMAC sessions bound to an entity), else null. */
  boundEntity: Uint8Array | null;
  isDaBound: boolean;
  isLockoutBound: boolean;
  /** Policy and trial sessions: the policy digest (zeros of the digest size at start). */
  policyDigest: Uint8Array;
  /** An audit session (first used with TPMA_SESSION.audit) and its audit digest (Part 1 §19.6.11). */
  isAudit: boolean;
  auditDigest: Uint8Array;
}

export class SessionStore {
  constructor(
    readonly slots: (AuthSessionState | null)[] = Array.from({ length: MAX_LOADED_SESSIONS }, () => null),
    readonly contextArray: number[] = new Array<number>(MAX_ACTIVE_SESSIONS).fill(0),
  ) {}

  get freeSlots(): number {
    return this.slots.filter((s) => s === null).length;
  }

  /** SessionIsLoaded: the context entry of the handle refers to a loaded session. */
  isLoaded(handle: number): boolean {
    const i = handle & 0x00ffffff;
    const v = i < MAX_ACTIVE_SESSIONS ? (this.contextArray[i] ?? 0) : 0;
    return v !== 0 && v <= MAX_LOADED_SESSIONS;
  }

  /** SessionGet (the caller checked isLoaded). */
  get(handle: number): AuthSessionState {
    const v = this.contextArray[handle & 0x00ffffff] ?? 0;
    const s = this.slots[v - 1];
    if (!s) throw new Error(`engine bug: session 0x${handle.toString(16)} is not loaded`);
    return s;
  }

  /**
   * SessionCreate's slot and handle assignment: TPM_RC_SESSION_MEMORY (no free slot) or
   * TPM_RC_SESSION_HANDLES (no free context entry) as the string, else the handle.
   */
  create(session: AuthSessionState): number | 'memory' | 'handles' {
    const slot = this.slots.indexOf(null);
    if (slot < 0) return 'memory';
    const entry = this.contextArray.indexOf(0);
    if (entry < 0) return 'handles';
    this.contextArray[entry] = slot + 1;
    this.slots[slot] = session;
    return (session.type === 'hmac' ? LIMITS.HMAC_SESSION_FIRST : LIMITS.POLICY_SESSION_FIRST) + entry;
  }

  /** SessionFlush of a loaded session. */
  flush(handle: number): void {
    const i = handle & 0x00ffffff;
    const v = this.contextArray[i] ?? 0;
    if (v === 0) return;
    this.contextArray[i] = 0;
    this.slots[v - 1] = null;
  }

  /** Loaded session handles from context entry `from` on, each with its type's handle range (SessionCapGetLoaded). */
  loadedHandles(from: number): number[] {
    const out: number[] = [];
    for (let i = from; i < MAX_ACTIVE_SESSIONS; i++) {
      const v = this.contextArray[i] ?? 0;
      if (v === 0 || v > MAX_LOADED_SESSIONS) continue;
      const s = this.slots[v - 1];
      out.push((s && s.type !== 'hmac' ? LIMITS.POLICY_SESSION_FIRST : LIMITS.HMAC_SESSION_FIRST) + i);
    }
    return out;
  }

  get activeCount(): number {
    return this.contextArray.filter((v) => v !== 0).length;
  }

  /** SessionStartup / _TPM_Init: loaded sessions are lost (there are no saved ones). */
  clear(): void {
    this.slots.fill(null);
    this.contextArray.fill(0);
  }
}

// ---- crypto --------------------------------------------------------------------------------------

function nodeHash(algId: number): string {
  const a = algById(algId);
  if (!a) throw new Error(`engine bug: no hash 0x${algId.toString(16)}`);
  return a.nodeName;
}

export function digestSize(algId: number): number {
  return algById(algId)?.size ?? 0;
}

/** HMAC over the concatenated parts (CryptHmacStart2B … CryptHmacEnd2B). */
export function hmac(algId: number, key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  const h = createHmac(nodeHash(algId), key);
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

/**
 * KDFa (SP 800-108 counter mode with HMAC; Part 1 §11.4.10.2; libtpms CryptKDFa):
 * K(i) = HMAC(key, [i]32 ‖ label ‖ 00 ‖ contextU ‖ contextV ‖ [bits]32), truncated to `bits`.
 */
export function kdfa(algId: number, key: Uint8Array, label: string, contextU: Uint8Array, contextV: Uint8Array, bits: number): Uint8Array {
  const bytes = Math.ceil(bits / 8);
  const out = new Uint8Array(bytes);
  const labelBytes = new TextEncoder().encode(label);
  for (let counter = 1, pos = 0; pos < bytes; counter++) {
    const block = hmac(
      algId,
      key,
      new BeWriter(4).u32(counter).finish(),
      labelBytes,
      Uint8Array.of(0),
      contextU,
      contextV,
      new BeWriter(4).u32(bits).finish(),
    );
    out.set(block.subarray(0, Math.min(block.length, bytes - pos)), pos);
    pos += block.length;
  }
  if (bits % 8 !== 0) out[0] = (out[0] ?? 0) & ((1 << (bits % 8)) - 1);
  return out;
}

/** The node:crypto CFB cipher and block size of a TPMT_SYM_DEF block cipher. */
function cfbCipher(sym: SymDef): { name: string; block: number } {
  switch (sym.algorithm) {
    case SYM_ALG.AES:
      return { name: `aes-${sym.keyBits}-cfb`, block: 16 };
    case SYM_ALG.CAMELLIA:
      return { name: `camellia-${sym.keyBits}-cfb`, block: 16 };
    case SYM_ALG.TDES:
      return { name: sym.keyBits === 128 ? 'des-ede-cfb' : 'des-ede3-cfb', block: 8 };
    default:
      throw new Error(`engine bug: no block cipher 0x${sym.algorithm.toString(16)}`);
  }
}

/**
 * Parameter encryption of `data` (the first parameter without its size field) for a session:
 * XOR obfuscation or CFB with key ‖ IV = KDFa(authHash, key, "CFB", nonceNewer, nonceOlder,
 * keyBits + blockBits). Commands: nonceNewer = nonceCaller; responses: nonceNewer = nonceTPM.
 */
export function paramCrypt(
  s: AuthSessionState,
  key: Uint8Array,
  nonceNewer: Uint8Array,
  nonceOlder: Uint8Array,
  data: Uint8Array,
  direction: 'encrypt' | 'decrypt',
): Uint8Array {
  if (s.symmetric.algorithm === SYM_ALG.XOR) {
    const mask = kdfa(s.authHash, key, 'XOR', nonceNewer, nonceOlder, data.length * 8);
    return data.map((b, i) => b ^ (mask[i] ?? 0));
  }
  const { name, block } = cfbCipher(s.symmetric);
  const keyBytes = s.symmetric.keyBits / 8;
  const material = kdfa(s.authHash, key, 'CFB', nonceNewer, nonceOlder, s.symmetric.keyBits + block * 8);
  const k = material.subarray(0, keyBytes);
  const iv = material.subarray(keyBytes, keyBytes + block);
  const c = direction === 'encrypt' ? createCipheriv(name, k, iv) : createDecipheriv(name, k, iv);
  return new Uint8Array(Buffer.concat([c.update(data), c.final()]));
}
