/**
 * TPM 1.2 command/response header codec and parameter reader (TPM Main Part 1 §3).
 * Big-endian throughout. Error semantics follow libtpms `TPM_Load*`, `TPM_SizedBuffer_Load`,
 * `TPM_Sbuffer_StoreInitialResponse` / `StoreFinalResponse`.
 */
import { BeWriter, u16be, u32be } from '../bytes/index.js';
import { TPM12_HEADER_SIZE, TPM_ALLOC_MAX, TPM_TAG } from './constants.js';
import { TPM_RC12, Tpm12Error } from './return-codes.js';

export interface RequestHeader {
  readonly tag: number;
  readonly paramSize: number;
  readonly ordinal: number;
}

/**
 * Parse the 10-byte header. A command shorter than the header, or whose paramSize differs from
 * the bytes received, is TPM_BAD_PARAM_SIZE (libtpms `TPM_Process_GetCommandParams`; swtpm's
 * short-message answer is the same code).
 */
export function parseRequestHeader(cmd: Uint8Array): RequestHeader | { readonly error: number } {
  if (cmd.length < TPM12_HEADER_SIZE) return { error: TPM_RC12.BAD_PARAM_SIZE };
  const header = { tag: u16be(cmd, 0), paramSize: u32be(cmd, 2), ordinal: u32be(cmd, 6) };
  if (header.paramSize !== cmd.length) return { error: TPM_RC12.BAD_PARAM_SIZE };
  return header;
}

/** Response tag for a request tag (libtpms `TPM_Sbuffer_StoreInitialResponse`). */
export function responseTagFor(requestTag: number): number {
  switch (requestTag) {
    case TPM_TAG.RQU_AUTH1_COMMAND:
      return TPM_TAG.RSP_AUTH1_COMMAND;
    case TPM_TAG.RQU_AUTH2_COMMAND:
      return TPM_TAG.RSP_AUTH2_COMMAND;
    default:
      return TPM_TAG.RSP_COMMAND;
  }
}

/** A 10-byte response carrying only a return code. */
export function errorResponse(rc: number, tag: number = TPM_TAG.RSP_COMMAND): Uint8Array {
  return new BeWriter(TPM12_HEADER_SIZE).u16(tag).u32(TPM12_HEADER_SIZE).u32(rc).finish();
}

/** A TPM_SUCCESS response with the given output parameters (request tag C1 → C4). */
export function successResponse(body: Uint8Array = new Uint8Array(0)): Uint8Array {
  const size = TPM12_HEADER_SIZE + body.length;
  return new BeWriter(size).u16(TPM_TAG.RSP_COMMAND).u32(size).u32(TPM_RC12.SUCCESS).bytes(body).finish();
}

/**
 * Reads input parameters after the header. Running short is TPM_BAD_PARAM_SIZE (libtpms
 * `TPM_Load8/16/32/n`), thrown as Tpm12Error and turned into a response by the dispatcher.
 */
export class ParamReader {
  private off = 0;
  constructor(private readonly buf: Uint8Array) {}

  get remaining(): number {
    return this.buf.length - this.off;
  }
  private need(n: number): void {
    if (this.remaining < n) throw new Tpm12Error(TPM_RC12.BAD_PARAM_SIZE);
  }
  u8(): number {
    this.need(1);
    return this.buf[this.off++] ?? 0;
  }
  u16(): number {
    this.need(2);
    const v = u16be(this.buf, this.off);
    this.off += 2;
    return v;
  }
  u32(): number {
    this.need(4);
    const v = u32be(this.buf, this.off);
    this.off += 4;
    return v;
  }
  bytes(n: number): Uint8Array {
    this.need(n);
    const v = this.buf.slice(this.off, this.off + n);
    this.off += n;
    return v;
  }
  /**
   * TPM_SIZED_BUFFER: u32 size then the bytes. A size above TPM_ALLOC_MAX is TPM_SIZE (libtpms
   * refuses the allocation before looking at the stream); otherwise short data is BAD_PARAM_SIZE.
   */
  sized(): Uint8Array {
    const size = this.u32();
    if (size > TPM_ALLOC_MAX) throw new Tpm12Error(TPM_RC12.SIZE);
    return this.bytes(size);
  }
  /** Trailing bytes after the last parameter are TPM_BAD_PARAM_SIZE. */
  expectEnd(): void {
    if (this.remaining !== 0) throw new Tpm12Error(TPM_RC12.BAD_PARAM_SIZE);
  }
}
