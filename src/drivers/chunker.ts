/**
 * Streaming chunker for TPM-side hashing: holds at most one chunk, emits full chunks only when more
 * data follows (the last 0..64 bytes must go to the completing command), and at the end splits
 * what is left the way Xen does (docs/tpm-quirks.md#seed-chunking): updates of whole 64-byte blocks while more than 64
 * bytes remain, then the tail.
 */
import { SHA1_BLOCK, TPM12_SHA1_COMPLETE_MAX } from './tpm12-commands.js';

export class TailChunker {
  private readonly buf: Uint8Array;
  private fill = 0;
  private total = 0;

  /** `emit` sends one update and returns false to stop (a TPM error); later data is then dropped. */
  constructor(
    readonly chunkSize: number,
    private readonly emit: (data: Uint8Array) => boolean,
  ) {
    if (!Number.isInteger(chunkSize) || chunkSize < SHA1_BLOCK || chunkSize % SHA1_BLOCK !== 0) {
      throw new RangeError(`chunk size must be a positive multiple of ${SHA1_BLOCK}`);
    }
    this.buf = new Uint8Array(chunkSize);
  }

  private stopped = false;

  get bytes(): number {
    return this.total;
  }

  push(data: Uint8Array): void {
    this.total += data.length;
    let off = 0;
    while (off < data.length && !this.stopped) {
      if (this.fill === this.chunkSize) {
        this.stopped = !this.emit(this.buf.slice());
        this.fill = 0;
        continue;
      }
      const n = Math.min(this.chunkSize - this.fill, data.length - off);
      this.buf.set(data.subarray(off, off + n), this.fill);
      this.fill += n;
      off += n;
    }
  }

  /** Emit the remaining whole blocks (Xen-style) and return the 0..64-byte tail; null if stopped. */
  finish(): Uint8Array | null {
    if (this.stopped) return null;
    let off = 0;
    while (this.fill - off > TPM12_SHA1_COMPLETE_MAX) {
      const left = this.fill - off;
      const n = left - (left % SHA1_BLOCK);
      if (!this.emit(this.buf.slice(off, off + n))) {
        this.stopped = true;
        return null;
      }
      off += n;
    }
    const tail = this.buf.slice(off, this.fill);
    this.fill = 0;
    return tail;
  }
}

/** A streaming TPM-side hash (FifoSha1Extend, FifoEventSequenceExtend): feed, then finish or abort. */
export interface ChunkSink<R> {
  update(chunk: Uint8Array): void;
  finish(): R;
  abort(): void;
}

/** Feed every chunk and finish; on an interface error abort (relinquish) and rethrow. */
export function feedAll<R>(sink: ChunkSink<R>, chunks: Iterable<Uint8Array>): R {
  try {
    for (const c of chunks) sink.update(c);
  } catch (e) {
    sink.abort();
    throw e;
  }
  return sink.finish();
}

/** feedAll for a stream (an upload). */
export async function feedAllAsync<R>(sink: ChunkSink<R>, chunks: AsyncIterable<Uint8Array>): Promise<R> {
  try {
    for await (const c of chunks) sink.update(c);
  } catch (e) {
    sink.abort();
    throw e;
  }
  return sink.finish();
}
