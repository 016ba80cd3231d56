/**
 * The only code that reads and writes integers. Byte order is always in the name:
 * TPM commands and responses are big-endian (TPM Main 1.2 and TPM 2.0 Library: network byte
 * order); event logs, the TXT heap and the SLRT are little-endian (TCG PC Client PFP, x86 native).
 */

export function u16be(b: Uint8Array, off: number): number {
  return ((b[off] ?? 0) << 8) | (b[off + 1] ?? 0);
}
export function u32be(b: Uint8Array, off: number): number {
  return (((b[off] ?? 0) << 24) >>> 0) + (((b[off + 1] ?? 0) << 16) | ((b[off + 2] ?? 0) << 8) | (b[off + 3] ?? 0));
}
export function u16le(b: Uint8Array, off: number): number {
  return (b[off] ?? 0) | ((b[off + 1] ?? 0) << 8);
}
export function u32le(b: Uint8Array, off: number): number {
  return ((b[off] ?? 0) | ((b[off + 1] ?? 0) << 8) | ((b[off + 2] ?? 0) << 16)) + (((b[off + 3] ?? 0) << 24) >>> 0);
}
export function u64le(b: Uint8Array, off: number): bigint {
  return BigInt(u32le(b, off)) | (BigInt(u32le(b, off + 4)) << 32n);
}

export function putU16be(b: Uint8Array, off: number, v: number): void {
  b[off] = (v >>> 8) & 0xff;
  b[off + 1] = v & 0xff;
}
export function putU32be(b: Uint8Array, off: number, v: number): void {
  b[off] = (v >>> 24) & 0xff;
  b[off + 1] = (v >>> 16) & 0xff;
  b[off + 2] = (v >>> 8) & 0xff;
  b[off + 3] = v & 0xff;
}
export function putU16le(b: Uint8Array, off: number, v: number): void {
  b[off] = v & 0xff;
  b[off + 1] = (v >>> 8) & 0xff;
}
export function putU32le(b: Uint8Array, off: number, v: number): void {
  b[off] = v & 0xff;
  b[off + 1] = (v >>> 8) & 0xff;
  b[off + 2] = (v >>> 16) & 0xff;
  b[off + 3] = (v >>> 24) & 0xff;
}
export function putU64le(b: Uint8Array, off: number, v: bigint): void {
  putU32le(b, off, Number(v & 0xffffffffn));
  putU32le(b, off + 4, Number((v >> 32n) & 0xffffffffn));
}

/** Growable byte writer; the byte order of its integers is fixed per instance. */
abstract class ByteWriter {
  private buf: Uint8Array;
  protected len = 0;
  constructor(
    initial: number,
    private readonly put16: (b: Uint8Array, off: number, v: number) => void,
    private readonly put32: (b: Uint8Array, off: number, v: number) => void,
  ) {
    this.buf = new Uint8Array(Math.max(1, initial));
  }
  protected ensure(n: number): Uint8Array {
    if (this.len + n > this.buf.length) {
      let cap = this.buf.length * 2;
      while (cap < this.len + n) cap *= 2;
      const next = new Uint8Array(cap);
      next.set(this.buf.subarray(0, this.len));
      this.buf = next;
    }
    return this.buf;
  }
  u8(v: number): this {
    this.ensure(1)[this.len++] = v & 0xff;
    return this;
  }
  u16(v: number): this {
    this.put16(this.ensure(2), this.len, v);
    this.len += 2;
    return this;
  }
  u32(v: number): this {
    this.put32(this.ensure(4), this.len, v);
    this.len += 4;
    return this;
  }
  bytes(v: Uint8Array): this {
    this.ensure(v.length).set(v, this.len);
    this.len += v.length;
    return this;
  }
  get length(): number {
    return this.len;
  }
  /** Overwrite a u32 at an earlier position (e.g. a size field once the body is known). */
  patchU32(off: number, v: number): this {
    this.put32(this.buf, off, v);
    return this;
  }
  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

/** Big-endian writer used to build TPM commands and responses. */
export class BeWriter extends ByteWriter {
  constructor(initial = 64) {
    super(initial, putU16be, putU32be);
  }
  /** TPM2B: u16 size then the bytes. */
  sized16(v: Uint8Array): this {
    return this.u16(v.length).bytes(v);
  }
}

/** Little-endian writer used to build event-log records. */
export class LeWriter extends ByteWriter {
  constructor(initial = 64) {
    super(initial, putU16le, putU32le);
  }
  u64(v: bigint): this {
    putU64le(this.ensure(8), this.len, v);
    this.len += 8;
    return this;
  }
}

export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}
export function fromHex(h: string): Uint8Array {
  const clean = h.replace(/[\s:]/g, '');
  if (clean.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(clean)) throw new RangeError(`not a hex string: ${h.slice(0, 32)}`);
  return new Uint8Array(Buffer.from(clean, 'hex'));
}
/**
 * Standard base64 (RFC 4648 §4) as the API accepts it: only the base64 alphabet, at most two
 * trailing `=`, padding optional; a length of 4n+1 (a lone 6-bit group) is refused.
 * Returns the decoded bytes, or undefined when `s` is not such a string.
 */
export function decodeBase64Strict(s: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 === 1) return undefined;
  return new Uint8Array(Buffer.from(s, 'base64'));
}
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
export function filled(n: number, v: number): Uint8Array {
  return new Uint8Array(n).fill(v);
}
