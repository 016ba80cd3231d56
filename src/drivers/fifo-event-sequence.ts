/**
 * `hashing=tpm` for TPM 2.0 through the FIFO, as the Xen early path does it (facts §3.7):
 * HashSequenceStart(TPM_ALG_NULL) → SequenceUpdate (≤ 1024 bytes, one PW session) →
 * EventSequenceComplete(pcr, two PW sessions) with the last 0..64 bytes. The TPM extends every
 * allocated bank and returns one digest per implemented algorithm (facts §3.5). On a TPM error
 * after the sequence was created, the sequence object is flushed so it does not hold one of the
 * few object slots. Streams: at most one chunk is buffered.
 */
import { u32be } from '../bytes/index.js';
import type { Locality } from '../tpm/engine.js';
import { type TisBus } from './bus.js';
import { CarefulDriver, type CarefulDriverOptions } from './careful-driver.js';
import { feedAll, feedAllAsync, TailChunker } from './chunker.js';
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

type Phase = 'new' | 'open' | 'failed' | 'done';

export class FifoEventSequenceExtend {
  private readonly drv: CarefulDriver;
  private phase: Phase = 'new';
  private rc = 0;
  private acquired = false;
  private updates = 0;
  private seq: number | null = null;
  private chunker: TailChunker | null = null;

  constructor(
    bus: TisBus,
    readonly locality: Locality,
    readonly pcr: number,
    private readonly opts: FifoEventSequenceOptions = {},
  ) {
    this.drv = new CarefulDriver(bus, opts.driver);
  }

  private release(): void {
    if (this.acquired) this.drv.relinquishLocality(this.locality);
    this.acquired = false;
  }

  private flush(): void {
    if (this.seq === null) return;
    const seq = this.seq;
    this.seq = null;
    this.drv.exchange(this.locality, flushContext(seq)); // best effort: the rc does not matter
  }

  private fail(rc: number): false {
    this.rc = rc;
    this.phase = 'failed';
    try {
      this.flush();
    } finally {
      this.release();
    }
    return false;
  }

  private guarded<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      this.phase = 'failed';
      this.seq = null;
      this.release();
      throw e;
    }
  }

  private start(): TailChunker | null {
    if (this.phase !== 'new') return this.chunker;
    return this.guarded(() => {
      this.acquired = this.drv.requestLocality(this.locality);
      const { rc, response } = this.drv.exchange(this.locality, hashSequenceStartEvent());
      if (rc !== 0) {
        this.fail(rc);
        return null;
      }
      this.seq = u32be(response, 10);
      this.phase = 'open';
      const chunk = Math.min(this.opts.maxChunk ?? TPM2_MAX_DIGEST_BUFFER, TPM2_MAX_DIGEST_BUFFER);
      this.chunker = new TailChunker(chunk, (data) => {
        const r = this.drv.exchange(this.locality, sequenceUpdate(this.seq ?? 0, data));
        this.updates++;
        return r.rc === 0 || this.fail(r.rc);
      });
      return this.chunker;
    });
  }

  update(chunk: Uint8Array): void {
    const c = this.start();
    if (c && this.phase === 'open') this.guarded(() => c.push(chunk));
  }

  finish(): FifoEventSequenceResult {
    const c = this.start();
    const bytes = c?.bytes ?? 0;
    if (!c || this.phase !== 'open') return this.result([], bytes);
    return this.guarded(() => {
      const tail = c.finish();
      if (tail === null) return this.result([], bytes);
      const { rc, response } = this.drv.exchange(this.locality, eventSequenceComplete(this.pcr, this.seq ?? 0, tail));
      if (rc !== 0) {
        this.fail(rc);
        return this.result([], bytes);
      }
      this.seq = null; // EventSequenceComplete flushed it
      this.phase = 'done';
      this.release();
      return this.result(decodeEventSequenceComplete(response), bytes);
    });
  }

  /** Give up: flush the sequence object (best effort) and relinquish. */
  abort(): void {
    if (this.phase === 'open') {
      this.phase = 'failed';
      try {
        this.flush();
      } catch {
        /* interface already broken: nothing more to do */
      }
    }
    this.release();
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
