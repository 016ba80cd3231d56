/**
 * A test-side TPM 2.0 session client, written from TPM 2.0 Library Part 1 §19 (HMAC computation,
 * §19.6.8 session key, §21 parameter encryption) and Part 3 §11.1 — independently of the engine's
 * code: it starts sessions, computes command HMACs from the nonces *that* TPM returned, encrypts
 * and decrypts the first parameter, and checks each response HMAC. One client per TPM (nonces are
 * random, so the engine and swtpm each get their own HMACs); the differential suite then compares
 * the two responses with nonce, HMAC and random bytes masked.
 */
import { createCipheriv, createDecipheriv, createHash, createHmac } from 'node:crypto';
import { BeWriter, toHex, u16be, u32be } from '../../../src/bytes/index.js';

export const HASH = { sha1: 0x0004, sha256: 0x000b, sha384: 0x000c, sha512: 0x000d } as const;
const NODE: Record<number, string> = { 0x0004: 'sha1', 0x000b: 'sha256', 0x000c: 'sha384', 0x000d: 'sha512' };
export const SIZE: Record<number, number> = { 0x0004: 20, 0x000b: 32, 0x000c: 48, 0x000d: 64 };

export interface Sym {
  alg: 'null' | 'xor' | 'aes' | 'camellia' | 'tdes';
  bits?: number;
  /** mode for block ciphers (default CFB 0x0043); hash for XOR */
  mode?: number;
}

export function symBytes(s: Sym): Uint8Array {
  const w = new BeWriter();
  switch (s.alg) {
    case 'null':
      return w.u16(0x0010).finish();
    case 'xor':
      return w.u16(0x000a).u16(s.mode ?? HASH.sha256).finish();
    case 'aes':
      return w.u16(0x0006).u16(s.bits ?? 128).u16(s.mode ?? 0x0043).finish();
    case 'camellia':
      return w.u16(0x0026).u16(s.bits ?? 128).u16(s.mode ?? 0x0043).finish();
    case 'tdes':
      return w.u16(0x0003).u16(s.bits ?? 192).u16(s.mode ?? 0x0043).finish();
  }
}

export function hmac(hash: number, key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  const h = createHmac(NODE[hash] as string, key);
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}
export function hashOf(hash: number, ...parts: Uint8Array[]): Uint8Array {
  const h = createHash(NODE[hash] as string);
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

/** KDFa (Part 1 §11.4.10.2, SP 800-108 counter mode, HMAC). */
export function kdfa(hash: number, key: Uint8Array, label: string, u: Uint8Array, v: Uint8Array, bits: number): Uint8Array {
  const out: Uint8Array[] = [];
  let have = 0;
  for (let i = 1; have < bits / 8; i++) {
    const block = hmac(hash, key, new BeWriter().u32(i).finish(), Buffer.from(label + '\0'), u, v, new BeWriter().u32(bits).finish());
    out.push(block);
    have += block.length;
  }
  return new Uint8Array(Buffer.concat(out).subarray(0, bits / 8));
}

const cat = (...p: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(p));

export interface ClientSession {
  handle: number;
  hash: number;
  nonceTPM: Uint8Array;
  key: Uint8Array;
  sym: Sym;
}

/** Part 1 §21: XOR or CFB over `data` (without its size field). */
function crypt(s: ClientSession, key: Uint8Array, newer: Uint8Array, older: Uint8Array, data: Uint8Array, dir: 'enc' | 'dec'): Uint8Array {
  if (s.sym.alg === 'null') return data; // the TPM refuses such a session for encryption (SYMMETRIC)
  if (s.sym.alg === 'xor') {
    // The mask comes from the session's hash (Part 1 §21.2), not from the hash named in TPMT_SYM_DEF.
    const mask = kdfa(s.hash, key, 'XOR', newer, older, data.length * 8);
    return data.map((b, i) => b ^ (mask[i] ?? 0));
  }
  const bits = s.sym.bits ?? (s.sym.alg === 'tdes' ? 192 : 128);
  const block = s.sym.alg === 'tdes' ? 8 : 16;
  const name = s.sym.alg === 'aes' ? `aes-${bits}-cfb` : s.sym.alg === 'camellia' ? `camellia-${bits}-cfb` : bits === 128 ? 'des-ede-cfb' : 'des-ede3-cfb';
  const m = kdfa(s.hash, key, 'CFB', newer, older, bits + block * 8);
  const k = m.subarray(0, bits / 8);
  const iv = m.subarray(bits / 8);
  const c = dir === 'enc' ? createCipheriv(name, k, iv) : createDecipheriv(name, k, iv);
  return new Uint8Array(Buffer.concat([c.update(data), c.final()]));
}

/** How one session is used in a command. */
export type Use =
  | { pw: Uint8Array }
  | {
      name: string;
      attrs: number;
      /** authValue of the associated entity (empty if none). */
      auth?: Uint8Array;
      /** the session is bound to the entity it authorizes (its authValue is left out of the key). */
      bound?: boolean;
      /** send this hmac instead of the right one */
      hmac?: Uint8Array;
      nonceCaller?: Uint8Array;
    };

export interface CmdSpec {
  cc: number;
  handles?: number[];
  /** Names of the handles (default: the handle itself); a sequence object has an empty Name. */
  names?: Uint8Array[];
  /** how many leading handles the sessions authorize */
  authHandles?: number;
  params?: Uint8Array;
  sessions?: Use[];
  /** the response carries a handle (StartAuthSession, HashSequenceStart) */
  respHandle?: boolean;
  /** tag override (default 8002 with sessions) */
  tag?: number;
  /** the first response parameter is a TPM2B of random bytes (nonceTPM, GetRandom): masked */
  random?: boolean;
  /** the response parameters end in a hash-check ticket, whose HMAC is keyed with each TPM's secret proof: masked */
  ticket?: boolean;
}

export interface Outcome {
  rc: number;
  /** the response with session nonces/HMACs and encrypted parameter bytes zeroed */
  masked: string;
  /** the response parameters after decryption (when a session encrypted them) */
  params: string;
  /** every response HMAC checked out (true when there was none) */
  hmacOk: boolean;
}

const CONTINUE = 0x01;
const DECRYPT = 0x20;
const ENCRYPT = 0x40;

export class Client {
  readonly sessions = new Map<string, ClientSession>();
  constructor(readonly send: (bytes: Uint8Array) => Promise<Uint8Array>) {}

  /** TPM2_StartAuthSession; remembers the session under `name` when it succeeds. */
  async start(
    name: string,
    o: { type?: number; bind?: number; bindAuth?: Uint8Array; sym?: Sym; hash?: number; nonce?: Uint8Array; tpmKey?: number; salt?: Uint8Array; sessions?: Use[] } = {},
  ): Promise<Outcome> {
    const hash = o.hash ?? HASH.sha256;
    const nonceCaller = o.nonce ?? new Uint8Array(SIZE[hash] ?? 32).fill(0x5a);
    const sym = o.sym ?? { alg: 'null' };
    const params = new BeWriter()
      .sized16(nonceCaller)
      .sized16(o.salt ?? new Uint8Array(0))
      .u8(o.type ?? 0)
      .bytes(symBytes(sym))
      .u16(hash)
      .finish();
    const out = await this.command({ cc: 0x176, handles: [o.tpmKey ?? 0x40000007, o.bind ?? 0x40000007], params, respHandle: true, sessions: o.sessions });
    if (out.rc === 0) {
      const nonceTPM = this.lastNonce;
      const handle = this.lastHandle;
      const bound = (o.bind ?? 0x40000007) !== 0x40000007;
      const key = bound ? kdfa(hash, o.bindAuth ?? new Uint8Array(0), 'ATH', nonceTPM, nonceCaller, (SIZE[hash] ?? 32) * 8) : new Uint8Array(0);
      this.sessions.set(name, { handle, hash, nonceTPM, key, sym });
    }
    return out;
  }

  handleOf(name: string): number {
    const s = this.sessions.get(name);
    if (!s) throw new Error(`no session ${name}`);
    return s.handle;
  }

  private lastHandle = 0;
  private lastNonce = new Uint8Array(0);

  async command(c: CmdSpec): Promise<Outcome> {
    const handles = c.handles ?? [];
    const names = handles.map((h, i) => c.names?.[i] ?? new BeWriter().u32(h).finish());
    const uses = c.sessions ?? [];
    const authHandles = c.authHandles ?? 0;
    const nonces = uses.map((u) => ('pw' in u ? new Uint8Array(0) : (u.nonceCaller ?? new Uint8Array(SIZE[this.sess(u.name).hash] ?? 32).fill(0x11))));
    const decIdx = uses.findIndex((u) => !('pw' in u) && (u.attrs & DECRYPT) !== 0);
    const encIdx = uses.findIndex((u) => !('pw' in u) && (u.attrs & ENCRYPT) !== 0);
    const keyFor = (u: Use, forHmac: boolean): Uint8Array => {
      if ('pw' in u) return new Uint8Array(0);
      const s = this.sess(u.name);
      const auth = u.auth ?? new Uint8Array(0);
      return forHmac && u.bound ? s.key : cat(s.key, auth);
    };
    // Parameter encryption of the first parameter (TPM2B).
    let params = c.params ?? new Uint8Array(0);
    if (decIdx >= 0) {
      const u = uses[decIdx] as Use & { name: string };
      const s = this.sess(u.name);
      const n = u16be(params, 0);
      const enc = crypt(s, keyFor(u, false), nonces[decIdx] as Uint8Array, s.nonceTPM, params.subarray(2, 2 + n), 'enc');
      params = cat(params.subarray(0, 2), enc, params.subarray(2 + n));
    }
    const cpHash = (hash: number) => hashOf(hash, new BeWriter().u32(c.cc).finish(), ...names, params);
    const area = new BeWriter();
    uses.forEach((u, i) => {
      if ('pw' in u) {
        area.u32(0x40000009).u16(0).u8(0x01).sized16(u.pw);
        return;
      }
      const s = this.sess(u.name);
      const key = keyFor(u, true);
      const extra: Uint8Array[] = [];
      if (i === 0 && authHandles > 0) {
        if (decIdx >= 0 && decIdx !== 0) extra.push(this.sess((uses[decIdx] as { name: string }).name).nonceTPM);
        if (encIdx >= 0 && encIdx !== 0 && encIdx !== decIdx) extra.push(this.sess((uses[encIdx] as { name: string }).name).nonceTPM);
      }
      const mac = u.hmac ?? (key.length === 0 ? new Uint8Array(0) : hmac(s.hash, key, cpHash(s.hash), nonces[i] as Uint8Array, s.nonceTPM, ...extra, Uint8Array.of(u.attrs)));
      area.u32(s.handle).sized16(nonces[i] as Uint8Array).u8(u.attrs).sized16(mac);
    });
    const tag = c.tag ?? (uses.length ? 0x8002 : 0x8001);
    const w = new BeWriter().u16(tag).u32(0).u32(c.cc);
    for (const h of handles) w.u32(h);
    if (tag === 0x8002) {
      const a = area.finish();
      w.u32(a.length).bytes(a);
    }
    w.bytes(params);
    w.patchU32(2, w.length);
    const resp = await this.send(w.finish());
    return this.response(c, resp, uses, nonces, keyFor, encIdx);
  }

  private sess(name: string): ClientSession {
    const s = this.sessions.get(name);
    if (!s) throw new Error(`no session ${name}`);
    return s;
  }

  private response(
    c: CmdSpec,
    resp: Uint8Array,
    uses: Use[],
    nonces: Uint8Array[],
    keyFor: (u: Use, forHmac: boolean) => Uint8Array,
    encIdx: number,
  ): Outcome {
    const rc = u32be(resp, 6);
    const masked = new Uint8Array(resp);
    if (rc !== 0) return { rc, masked: toHex(masked), params: '', hmacOk: true };
    const tag = u16be(resp, 0);
    let at = 10;
    if (c.respHandle) {
      this.lastHandle = u32be(resp, at);
      at += 4;
    }
    let paramEnd = resp.length;
    if (tag === 0x8002) {
      const size = u32be(resp, at);
      at += 4;
      paramEnd = at + size;
    }
    const rawParams = resp.subarray(at, paramEnd);
    let plain = rawParams;
    const paramAt = at;
    // Nonces roll before the response is built: read the new ones first.
    const newNonces: Uint8Array[] = [];
    const attrsOut: number[] = [];
    const macs: Uint8Array[] = [];
    let p = paramEnd;
    for (let i = 0; i < uses.length; i++) {
      const n = u16be(resp, p);
      newNonces.push(resp.slice(p + 2, p + 2 + n));
      masked.fill(0, p + 2, p + 2 + n);
      p += 2 + n;
      attrsOut.push(resp[p] ?? 0);
      p += 1;
      const m = u16be(resp, p);
      macs.push(resp.slice(p + 2, p + 2 + m));
      masked.fill(0, p + 2, p + 2 + m);
      p += 2 + m;
    }
    if (encIdx >= 0 && rawParams.length >= 2) {
      const u = uses[encIdx] as Use & { name: string };
      const s = this.sess(u.name);
      const n = u16be(rawParams, 0);
      const dec = crypt(s, keyFor(u, false), newNonces[encIdx] as Uint8Array, nonces[encIdx] as Uint8Array, rawParams.subarray(2, 2 + n), 'dec');
      plain = cat(rawParams.subarray(0, 2), dec, rawParams.subarray(2 + n));
      masked.fill(0, paramAt + 2, paramAt + 2 + n);
    }
    if (c.cc === 0x176) this.lastNonce = plain.slice(2, 2 + u16be(plain, 0));
    if (c.random || c.cc === 0x176) {
      const n = u16be(plain, 0);
      masked.fill(0, paramAt + 2, paramAt + 2 + n);
      plain = cat(plain.subarray(0, 2), new Uint8Array(n), plain.subarray(2 + n));
    }
    if (c.ticket) {
      // TPMT_TK_HASHCHECK = tag 0x8024, hierarchy u32, digest TPM2B — the last thing in the parameters.
      for (let n = 0; n <= 64; n++) {
        const at2 = plain.length - n - 2;
        if (at2 >= 6 && u16be(plain, at2) === n && u16be(plain, at2 - 6) === 0x8024) {
          masked.fill(0, paramAt + at2 + 2, paramAt + plain.length);
          plain = cat(plain.subarray(0, at2 + 2), new Uint8Array(n));
          break;
        }
      }
    }
    const rpHashes = new Map<number, Uint8Array>();
    let hmacOk = true;
    uses.forEach((u, i) => {
      if ('pw' in u) return;
      const s = this.sess(u.name);
      const rp = rpHashes.get(s.hash) ?? hashOf(s.hash, new BeWriter().u32(0).u32(c.cc).finish(), rawParams);
      rpHashes.set(s.hash, rp);
      s.nonceTPM = newNonces[i] as Uint8Array;
      const key = keyFor(u, true);
      const sent = u.hmac ?? (key.length === 0 ? new Uint8Array(0) : new Uint8Array(1));
      const expected = key.length === 0 && sent.length === 0 ? new Uint8Array(0) : hmac(s.hash, key, rp, s.nonceTPM, nonces[i] as Uint8Array, Uint8Array.of(attrsOut[i] ?? 0));
      if (toHex(expected) !== toHex(macs[i] as Uint8Array)) hmacOk = false;
      if (((u.attrs ?? 0) & CONTINUE) === 0) this.sessions.delete(u.name);
    });
    return { rc, masked: toHex(masked), params: toHex(plain), hmacOk };
  }
}
