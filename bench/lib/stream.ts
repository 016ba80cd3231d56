/**
 * The generated upload: `total` bytes in 1 MiB chunks, never held whole. Chunk i is a fixed 1 MiB
 * pattern with i written into its first 4 bytes, so every chunk differs and the stream is
 * reproducible (the same bytes for the service, sha1sum and swtpm).
 */
import { createHash, type Hash } from 'node:crypto';
import { Readable } from 'node:stream';
import { MiB } from './stats.js';

export const CHUNK = MiB;
const BASE = Buffer.from(Uint8Array.from({ length: CHUNK }, (_, i) => (i * 151 + (i >>> 10) * 7) & 0xff));

function chunkAt(i: number, size: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  BASE.copy(b, 0, 0, size);
  if (size >= 4) b.writeUInt32LE(i >>> 0, 0);
  return b;
}

/** Synchronous chunks (for in-process feeding). */
export function* generatedChunks(total: number): Generator<Buffer> {
  let off = 0;
  for (let i = 0; off < total; i++) {
    const n = Math.min(CHUNK, total - off);
    yield chunkAt(i, n);
    off += n;
  }
}

/** A Readable over the generated stream; when `hash` is given, every chunk is also hashed. */
export function generatedReadable(total: number, hash?: Hash): Readable {
  const it = generatedChunks(total);
  return new Readable({
    highWaterMark: CHUNK,
    read() {
      const r = it.next();
      if (r.done) {
        this.push(null);
        return;
      }
      hash?.update(r.value);
      this.push(r.value);
    },
  });
}

/** sha1 of the generated stream, computed in-process. */
export function generatedSha1(total: number): string {
  const h = createHash('sha1');
  for (const c of generatedChunks(total)) h.update(c);
  return h.digest('hex');
}
