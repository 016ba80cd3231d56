/**
 * Big-endian command reader for TPM 2.0 unmarshalling (TPM 2.0 Library Part 2 §5).
 * Mirrors libtpms 0.9.2 `Unmarshal.c`: running out of bytes is TPM_RC_INSUFFICIENT, and the
 * caller adds the handle/parameter/session qualifier.
 */
import { u16be, u32be } from '../bytes/index.js';
import { TPM_RC } from './rc.js';

/**
 * A TPM error found while parsing or executing a command. Internal control flow only: the
 * dispatcher always turns it into an error *response*; it never leaves the engine.
 */
export class RcFault extends Error {
  constructor(readonly rc: number) {
    super(`TPM_RC 0x${rc.toString(16).padStart(3, '0')}`);
    this.name = 'RcFault';
  }
}

export function fault(rc: number): never {
  throw new RcFault(rc);
}

export class TpmReader {
  constructor(
    private readonly buf: Uint8Array,
    private pos = 0,
    private end = buf.length,
  ) {}

  get offset(): number {
    return this.pos;
  }
  get remaining(): number {
    return this.end - this.pos;
  }
  /** Shrink the readable window by n bytes from its end (libtpms: parameterSize -= authSize). */
  reserveTail(n: number): void {
    this.end -= n;
  }
  /** Reader over the next n bytes (the caller must have checked n <= remaining); advances past them. */
  take(n: number): TpmReader {
    const sub = new TpmReader(this.buf, this.pos, this.pos + n);
    this.pos += n;
    return sub;
  }
  /** Move this reader to where a sub-reader stopped (after the authorization area). */
  seek(pos: number, end: number): void {
    this.pos = pos;
    this.end = end;
  }
  get limit(): number {
    return this.end;
  }

  u8(): number {
    if (this.remaining < 1) fault(TPM_RC.INSUFFICIENT);
    return this.buf[this.pos++] ?? 0;
  }
  u16(): number {
    if (this.remaining < 2) fault(TPM_RC.INSUFFICIENT);
    const v = u16be(this.buf, this.pos);
    this.pos += 2;
    return v;
  }
  u32(): number {
    if (this.remaining < 4) fault(TPM_RC.INSUFFICIENT);
    const v = u32be(this.buf, this.pos);
    this.pos += 4;
    return v;
  }
  bytes(n: number): Uint8Array {
    if (this.remaining < n) fault(TPM_RC.INSUFFICIENT);
    const v = this.buf.slice(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }
}

/**
 * Parameter unmarshalling with libtpms' numbering: the n-th parameter's error gets
 * TPM_RC_P + n × TPM_RC_1 (CommandDispatcher.c).
 */
export class ParamReader {
  private n = 0;
  constructor(readonly r: TpmReader) {}
  next<T>(read: (r: TpmReader) => T): T {
    this.n++;
    try {
      return read(this.r);
    } catch (e) {
      if (e instanceof RcFault) throw new RcFault(e.rc + 0x040 + 0x100 * this.n);
      throw e;
    }
  }
}
