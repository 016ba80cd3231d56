/**
 * The lifecycle both `hashing=tpm` streams share (TPM 1.2 SHA-1 thread, TPM 2.0 event sequence):
 * hold the locality for the whole stream (docs/tpm-quirks.md#sha-1-thread), open the TPM-side hash, send updates
 * through a TailChunker (at most one chunk buffered), complete with the last 0..64 bytes, and on a
 * TPM error stop, clean up and relinquish. Interface failures (TisTimeoutError, TisProtocolError)
 * are rethrown after relinquishing; TPM errors are return codes. Subclasses supply the commands.
 */
import type { Locality } from '../tpm/engine.js';
import type { TisBus } from './bus.js';
import { CarefulDriver, type CarefulDriverOptions } from './careful-driver.js';
import { TailChunker, type ChunkSink } from './chunker.js';

type Phase = 'new' | 'open' | 'failed' | 'done';

export abstract class FifoHashStream<R> implements ChunkSink<R> {
  protected readonly drv: CarefulDriver;
  private phase: Phase = 'new';
  protected rc = 0;
  private acquired = false;
  protected updates = 0;
  private chunker: TailChunker | null = null;

  constructor(
    bus: TisBus,
    readonly locality: Locality,
    readonly pcr: number,
    driver?: CarefulDriverOptions,
  ) {
    this.drv = new CarefulDriver(bus, driver);
  }

  /** The command that opens the TPM-side hash. */
  protected abstract openCommand(): Uint8Array;
  /** After a successful open: the update size (a multiple of 64) for this stream. */
  protected abstract opened(response: Uint8Array): number;
  protected abstract updateCommand(data: Uint8Array): Uint8Array;
  protected abstract completeCommand(tail: Uint8Array): Uint8Array;
  /** The result of a completed stream, from the completing response. */
  protected abstract completed(response: Uint8Array, bytes: number): R;
  /** The result of a stream the TPM refused (rc set). */
  protected abstract failedResult(bytes: number): R;
  /** Best-effort TPM-side cleanup once the hash is open and the stream is given up. */
  protected cleanup(): void {}
  /** The TPM-side hash no longer exists (completed, or the interface broke). */
  protected forget(): void {}

  private release(): void {
    if (this.acquired) this.drv.relinquishLocality(this.locality);
    this.acquired = false;
  }

  private fail(rc: number): false {
    const wasOpen = this.phase === 'open';
    this.rc = rc;
    this.phase = 'failed';
    try {
      if (wasOpen) this.cleanup();
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
      this.forget();
      this.release();
      throw e;
    }
  }

  private start(): TailChunker | null {
    if (this.phase !== 'new') return this.chunker;
    return this.guarded(() => {
      this.acquired = this.drv.requestLocality(this.locality);
      const { rc, response } = this.drv.exchange(this.locality, this.openCommand());
      if (rc !== 0) {
        this.fail(rc);
        return null;
      }
      const chunk = this.opened(response);
      this.phase = 'open';
      this.chunker = new TailChunker(chunk, (data) => {
        const r = this.drv.exchange(this.locality, this.updateCommand(data));
        this.updates++;
        return r.rc === 0 || this.fail(r.rc);
      });
      return this.chunker;
    });
  }

  /** Feed the next piece of the stream. */
  update(chunk: Uint8Array): void {
    const c = this.start();
    if (c && this.phase === 'open') this.guarded(() => c.push(chunk));
  }

  /** Send the remaining updates and the completing command; relinquish. */
  finish(): R {
    const c = this.start();
    const bytes = c?.bytes ?? 0;
    if (!c || this.phase !== 'open') return this.failedResult(bytes);
    return this.guarded(() => {
      const tail = c.finish();
      if (tail === null) return this.failedResult(bytes);
      const { rc, response } = this.drv.exchange(this.locality, this.completeCommand(tail));
      if (rc !== 0) {
        this.fail(rc);
        return this.failedResult(bytes);
      }
      this.forget();
      this.phase = 'done';
      this.release();
      return this.completed(response, bytes);
    });
  }

  /** Give up: clean the TPM side up (best effort) and relinquish. */
  abort(): void {
    if (this.phase === 'open') {
      try {
        this.cleanup();
      } catch {
        /* interface already broken: nothing more to do */
      }
    }
    if (this.phase === 'open' || this.phase === 'new') this.phase = 'failed';
    this.release();
  }
}
