/**
 * `hashing=tpm` for TPM 1.2 through the FIFO: SHA1Start, SHA1Update in maxNumBytes chunks,
 * SHA1CompleteExtend(pcr) with the last 0..64 bytes (TPM Main 1.2 Part 3 §13.1–§13.4), driven by the careful
 * driver while holding the locality for the whole thread (any other command in between kills the
 * SHA-1 thread, docs/tpm-quirks.md#sha-1-thread). Streams: at most one chunk is buffered.
 */
import { u32be } from '../bytes/index.js';
import type { Locality } from '../tpm/engine.js';
import { TIS_BUFFER_MAX } from '../tis/registers.js';
import { TisProtocolError, type TisBus } from './bus.js';
import type { CarefulDriverOptions } from './careful-driver.js';
import { feedAll, feedAllAsync } from './chunker.js';
import { FifoHashStream } from './fifo-hash-stream.js';
import { sha1CompleteExtend12, sha1Start12, sha1Update12, SHA1_BLOCK, TPM12_HEADER_SIZE } from './tpm12-commands.js';

const SHA1_SIZE = 20;
/** Largest update that fits the FIFO buffer: (4096 − 14) rounded down to 64 = 4032. */
const MAX_UPDATE = Math.floor((TIS_BUFFER_MAX - 14) / SHA1_BLOCK) * SHA1_BLOCK;

export interface FifoSha1Options {
  driver?: CarefulDriverOptions;
  /** Cap on each update below maxNumBytes (a multiple of 64). */
  maxChunk?: number;
}

export interface FifoSha1Result {
  /** First non-zero TPM return code, or 0. */
  readonly rc: number;
  /** SHA-1 of the data, as the TPM computed it (null on error). */
  readonly hashValue: Uint8Array | null;
  /** New PCR value (null on error). */
  readonly outDigest: Uint8Array | null;
  readonly bytes: number;
  /** SHA1Update commands sent. */
  readonly updates: number;
}

export class FifoSha1Extend extends FifoHashStream<FifoSha1Result> {
  constructor(
    bus: TisBus,
    locality: Locality,
    pcr: number,
    private readonly opts: FifoSha1Options = {},
  ) {
    super(bus, locality, pcr, opts.driver);
  }

  protected openCommand(): Uint8Array {
    return sha1Start12();
  }

  protected opened(response: Uint8Array): number {
    const maxNumBytes = u32be(response, TPM12_HEADER_SIZE);
    const chunk = Math.min(maxNumBytes - (maxNumBytes % SHA1_BLOCK), MAX_UPDATE, this.opts.maxChunk ?? MAX_UPDATE);
    if (chunk < SHA1_BLOCK) throw new TisProtocolError(`SHA1Start maxNumBytes ${maxNumBytes} is below one block`);
    return chunk - (chunk % SHA1_BLOCK);
  }

  protected updateCommand(data: Uint8Array): Uint8Array {
    return sha1Update12(data);
  }

  protected completeCommand(tail: Uint8Array): Uint8Array {
    return sha1CompleteExtend12(this.pcr, tail);
  }

  protected completed(response: Uint8Array, bytes: number): FifoSha1Result {
    const h = TPM12_HEADER_SIZE;
    return this.result(response.slice(h, h + SHA1_SIZE), response.slice(h + SHA1_SIZE, h + 2 * SHA1_SIZE), bytes);
  }

  protected failedResult(bytes: number): FifoSha1Result {
    return this.result(null, null, bytes);
  }

  private result(hashValue: Uint8Array | null, outDigest: Uint8Array | null, bytes: number): FifoSha1Result {
    return { rc: this.rc, hashValue, outDigest, bytes, updates: this.updates };
  }
}

/** Whole-iterable convenience around FifoSha1Extend. */
export function fifoSha1Extend(bus: TisBus, locality: Locality, pcr: number, chunks: Iterable<Uint8Array>, opts?: FifoSha1Options): FifoSha1Result {
  return feedAll(new FifoSha1Extend(bus, locality, pcr, opts), chunks);
}

/** Async-iterable (upload stream) convenience around FifoSha1Extend. */
export function fifoSha1ExtendStream(
  bus: TisBus,
  locality: Locality,
  pcr: number,
  chunks: AsyncIterable<Uint8Array>,
  opts?: FifoSha1Options,
): Promise<FifoSha1Result> {
  return feedAllAsync(new FifoSha1Extend(bus, locality, pcr, opts), chunks);
}
