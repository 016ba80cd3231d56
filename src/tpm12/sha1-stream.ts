/**
 * Resumable SHA-1 (FIPS 180-4 §6.1) whose midstate is plain data.
 *
 * The TPM 1.2 SHA-1 thread (Part 3 §13) and the TIS HASH_START context (libtpms
 * `TPM12_IO_Hash_Start`) can stay open
 * across commands, and the engine must be able to snapshot() itself into JSON between any two
 * commands. node:crypto Hash objects cannot be serialised, so this small implementation keeps the
 * five chaining words, the partial block and the length; test/tpm12 checks it against node:crypto.
 */
import { fromHex, toHex } from '../bytes/index.js';

export interface Sha1StreamSnapshot {
  /** Chaining value H0..H4 as 40 hex digits. */
  readonly h: string;
  /** Bytes of the current partial block (0..63 bytes) as hex. */
  readonly pending: string;
  /** Total bytes hashed so far. */
  readonly length: number;
}

const INITIAL_H = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0] as const;
const BLOCK = 64;

export class Sha1Stream {
  private readonly h: Uint32Array;
  private readonly block = new Uint8Array(BLOCK);
  private blockLen = 0;
  private total = 0;
  private readonly w = new Uint32Array(80);

  constructor() {
    this.h = Uint32Array.from(INITIAL_H);
  }

  update(data: Uint8Array): this {
    let off = 0;
    this.total += data.length;
    if (this.blockLen > 0) {
      const take = Math.min(BLOCK - this.blockLen, data.length);
      this.block.set(data.subarray(0, take), this.blockLen);
      this.blockLen += take;
      off = take;
      if (this.blockLen < BLOCK) return this;
      this.compress(this.block, 0);
      this.blockLen = 0;
    }
    for (; off + BLOCK <= data.length; off += BLOCK) this.compress(data, off);
    if (off < data.length) {
      this.block.set(data.subarray(off), 0);
      this.blockLen = data.length - off;
    }
    return this;
  }

  /** Final digest; the stream itself is left unchanged. */
  digest(): Uint8Array {
    const copy = Sha1Stream.restore(this.snapshot());
    const bits = copy.total * 8;
    const padLen = copy.blockLen < 56 ? 56 - copy.blockLen : 120 - copy.blockLen;
    const pad = new Uint8Array(padLen + 8);
    pad[0] = 0x80;
    const view = new DataView(pad.buffer);
    view.setUint32(padLen, Math.floor(bits / 0x100000000));
    view.setUint32(padLen + 4, bits >>> 0);
    copy.update(pad);
    const out = new Uint8Array(20);
    const outView = new DataView(out.buffer);
    for (let i = 0; i < 5; i++) outView.setUint32(i * 4, copy.h[i] ?? 0);
    return out;
  }

  snapshot(): Sha1StreamSnapshot {
    const hb = new Uint8Array(20);
    const view = new DataView(hb.buffer);
    for (let i = 0; i < 5; i++) view.setUint32(i * 4, this.h[i] ?? 0);
    return { h: toHex(hb), pending: toHex(this.block.subarray(0, this.blockLen)), length: this.total };
  }

  static restore(s: Sha1StreamSnapshot): Sha1Stream {
    const hb = fromHex(s.h);
    const pending = fromHex(s.pending);
    if (hb.length !== 20 || pending.length >= BLOCK || !Number.isSafeInteger(s.length) || s.length < 0) {
      throw new RangeError('invalid SHA-1 stream snapshot');
    }
    const out = new Sha1Stream();
    const view = new DataView(hb.buffer, hb.byteOffset, hb.byteLength);
    for (let i = 0; i < 5; i++) out.h[i] = view.getUint32(i * 4);
    out.block.set(pending);
    out.blockLen = pending.length;
    out.total = s.length;
    return out;
  }

  private compress(data: Uint8Array, off: number): void {
    const w = this.w;
    for (let i = 0; i < 16; i++) {
      const p = off + i * 4;
      w[i] = (((data[p] ?? 0) << 24) | ((data[p + 1] ?? 0) << 16) | ((data[p + 2] ?? 0) << 8) | (data[p + 3] ?? 0)) >>> 0;
    }
    for (let i = 16; i < 80; i++) {
      const x = (w[i - 3] ?? 0) ^ (w[i - 8] ?? 0) ^ (w[i - 14] ?? 0) ^ (w[i - 16] ?? 0);
      w[i] = ((x << 1) | (x >>> 31)) >>> 0;
    }
    let a = this.h[0] ?? 0;
    let b = this.h[1] ?? 0;
    let c = this.h[2] ?? 0;
    let d = this.h[3] ?? 0;
    let e = this.h[4] ?? 0;
    for (let i = 0; i < 80; i++) {
      let f: number;
      let k: number;
      if (i < 20) {
        f = (b & c) | (~b & d);
        k = 0x5a827999;
      } else if (i < 40) {
        f = b ^ c ^ d;
        k = 0x6ed9eba1;
      } else if (i < 60) {
        f = (b & c) | (b & d) | (c & d);
        k = 0x8f1bbcdc;
      } else {
        f = b ^ c ^ d;
        k = 0xca62c1d6;
      }
      const t = (((a << 5) | (a >>> 27)) + f + e + k + (w[i] ?? 0)) >>> 0;
      e = d;
      d = c;
      c = ((b << 30) | (b >>> 2)) >>> 0;
      b = a;
      a = t;
    }
    this.h[0] = ((this.h[0] ?? 0) + a) >>> 0;
    this.h[1] = ((this.h[1] ?? 0) + b) >>> 0;
    this.h[2] = ((this.h[2] ?? 0) + c) >>> 0;
    this.h[3] = ((this.h[3] ?? 0) + d) >>> 0;
    this.h[4] = ((this.h[4] ?? 0) + e) >>> 0;
  }
}
