/**
 * Bounds-checked little-endian cursor used by the record parsers. Every read checks what
 * remains; failures are EventLogParseError with the cursor's absolute offset and record index.
 */
import { u16le, u32le } from '../bytes/index.js';
import { EventLogParseError } from './errors.js';

export class LeCursor {
  pos: number;
  recordIndex = -1;
  constructor(
    readonly bytes: Uint8Array,
    start = 0,
    /** Added to offsets reported in errors (input slices). */
    readonly base = 0,
  ) {
    this.pos = start;
  }
  get remaining(): number {
    return this.bytes.length - this.pos;
  }
  fail(message: string, at = this.pos): never {
    throw new EventLogParseError(message, this.base + at, this.recordIndex);
  }
  need(n: number, what: string): void {
    if (n > this.remaining) this.fail(`truncated ${what}: need ${n} bytes, ${this.remaining} left`);
  }
  u16le(what: string): number {
    this.need(2, what);
    const v = u16le(this.bytes, this.pos);
    this.pos += 2;
    return v;
  }
  u32le(what: string): number {
    this.need(4, what);
    const v = u32le(this.bytes, this.pos);
    this.pos += 4;
    return v;
  }
  /** Copy n bytes; n must already be checked against a named cap by the caller. */
  take(n: number, what: string): Uint8Array {
    this.need(n, what);
    const v = this.bytes.slice(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }
}

/**
 * Offset where a trailing run of all-0x00 or all-0xFF bytes begins (bytes.length when none):
 * a pre-allocated log buffer is padded after its last record.
 */
export function paddingStart(bytes: Uint8Array, from: number): number {
  const last = bytes[bytes.length - 1];
  if (last !== 0x00 && last !== 0xff) return bytes.length;
  let i = bytes.length;
  while (i > from && bytes[i - 1] === last) i--;
  return i;
}
