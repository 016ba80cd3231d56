/**
 * `hashing=tpm` for TPM 2.0 through the FIFO, as the Xen early path does it (Xen slaunch v1 12/21):
 * HashSequenceStart(TPM_ALG_NULL) → SequenceUpdate (≤ 1024 bytes, one PW session) →
 * EventSequenceComplete(pcr, two PW sessions) with the last 0..64 bytes. The TPM extends every
 * allocated bank and returns one digest per implemented algorithm (ms-tpm-20-ref
 * `EventSequenceComplete.c`). On a TPM error
 * after the sequence was created, the sequence object is flushed so it does not hold one of the
 * few object slots. Streams: at most one chunk is buffered.
 */
import { u32be } from '../bytes/index.js';
import type { Locality } from '../tpm/engine.js';
import { type TisBus } from './bus.js';
import type { CarefulDriverOptions } from './careful-driver.js';
import { feedAll, feedAllAsync } from './chunker.js';
import { FifoHashStream } from './fifo-hash-stream.js';
import {
  decodeEventSequenceComplete,
  eventSequenceComplete,
  flushContext,
  hashSequenceStartEvent,
  sequenceUpdate,
  TPM2_MAX_DIGEST_BUFFER,
  type AlgDigest,
} from './tpm2-commands.js';

export interface FifoEventSequenceOptions {
  driver?: CarefulDriverOptions;
  /** Bytes per SequenceUpdate: a multiple of 64, at most 1024 (default 1024). */
  maxChunk?: number;
}

export interface FifoEventSequenceResult {
  /** First non-zero TPM response code, or 0. */
  readonly rc: number;
  /** One digest per algorithm the TPM returned, in its order (empty on error). */
  readonly digests: readonly AlgDigest[];
  readonly bytes: number;
  readonly updates: number;
}

export class FifoEventSequenceExtend extends FifoHashStream<FifoEventSequenceResult> {
  private seq: number | null = null;

  constructor(
    bus: TisBus,
    locality: Locality,
    pcr: number,
    private readonly opts: FifoEventSequenceOptions = {},
  ) {
    super(bus, locality, pcr, opts.driver);
  }

  protected openCommand(): Uint8Array {
    return hashSequenceStartEvent();
  }

  protected opened(response: Uint8Array): number {
    this.seq = u32be(response, 10);
    return Math.min(this.opts.maxChunk ?? TPM2_MAX_DIGEST_BUFFER, TPM2_MAX_DIGEST_BUFFER);
  }

  protected updateCommand(data: Uint8Array): Uint8Array {
    return sequenceUpdate(this.seq ?? 0, data);
  }

  protected completeCommand(tail: Uint8Array): Uint8Array {
    return eventSequenceComplete(this.pcr, this.seq ?? 0, tail);
  }

  /** Flush the sequence object so it does not keep one of the few object slots (best effort). */
  protected override cleanup(): void {
    if (this.seq === null) return;
    const seq = this.seq;
    this.seq = null;
    this.drv.exchange(this.locality, flushContext(seq)); // the rc does not matter
  }

  /** EventSequenceComplete flushed it, or the interface broke: nothing to flush. */
  protected override forget(): void {
    this.seq = null;
  }

  protected completed(response: Uint8Array, bytes: number): FifoEventSequenceResult {
    return this.result(decodeEventSequenceComplete(response), bytes);
  }

  protected failedResult(bytes: number): FifoEventSequenceResult {
    return this.result([], bytes);
  }

  private result(digests: readonly AlgDigest[], bytes: number): FifoEventSequenceResult {
    return { rc: this.rc, digests, bytes, updates: this.updates };
  }
}

export function fifoEventSequenceExtend(
  bus: TisBus,
  locality: Locality,
  pcr: number,
  chunks: Iterable<Uint8Array>,
  opts?: FifoEventSequenceOptions,
): FifoEventSequenceResult {
  return feedAll(new FifoEventSequenceExtend(bus, locality, pcr, opts), chunks);
}

export function fifoEventSequenceExtendStream(
  bus: TisBus,
  locality: Locality,
  pcr: number,
  chunks: AsyncIterable<Uint8Array>,
  opts?: FifoEventSequenceOptions,
): Promise<FifoEventSequenceResult> {
  return feedAllAsync(new FifoEventSequenceExtend(bus, locality, pcr, opts), chunks);
}
