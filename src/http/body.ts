/** Reading request bodies that arrive as streams (application/octet-stream, multipart files). */
import { Readable } from 'node:stream';
import type { FastifyRequest } from 'fastify';
import { concatBytes } from '../bytes/index.js';
import { DomainError } from '../errors.js';

export function isReadable(v: unknown): v is AsyncIterable<Buffer> {
  return typeof v === 'object' && v !== null && Symbol.asyncIterator in v;
}

/** The 413 problem for a body past `limit` bytes. */
function tooLarge(limit: number, what: string): DomainError {
  return new DomainError('payload-too-large', `${what} is larger than the limit of ${limit} bytes`, { limit });
}

/** The problem for a body stream that failed: 413 for a multipart file over its limit, else upload-aborted. */
function bodyError(e: unknown, limit: number, what: string): DomainError {
  if (e instanceof DomainError) return e;
  if ((e as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE') return tooLarge(limit, what);
  return new DomainError('upload-aborted', `${what} did not arrive whole: ${(e as Error).message}`);
}

/** Iterate a body stream, failing with 413 past `limit` bytes and with upload-aborted when the peer goes away. */
export async function* limitedChunks(stream: AsyncIterable<Buffer>, limit: number, what: string): AsyncGenerator<Uint8Array> {
  let total = 0;
  try {
    for await (const chunk of stream) {
      total += chunk.length;
      if (total > limit) throw tooLarge(limit, what);
      yield new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    }
  } catch (e) {
    throw bodyError(e, limit, what);
  }
}

/**
 * Feed every chunk of a body stream to `onChunk` as it arrives, with limitedChunks' rules (413 past
 * `limit`, upload-aborted when the peer goes away). A node Readable is read in flowing mode, chunk by
 * chunk from its 'data' events: no promise per chunk, and the socket keeps being read while the
 * chunk is hashed (an async iterator reads a paused stream up to its high-water mark and stops,
 * and concatenates what piled up: a `curl -T` upload ran ~25 % slower that way). When `onChunk`
 * returns a promise (hashing workers behind), the stream pauses until it settles.
 */
export function pumpChunks(stream: AsyncIterable<Buffer>, limit: number, what: string, onChunk: (chunk: Uint8Array) => void | Promise<void>): Promise<void> {
  if (!(stream instanceof Readable)) {
    return (async () => {
      for await (const c of limitedChunks(stream, limit, what)) await onChunk(c);
    })();
  }
  const rs = stream;
  return new Promise<void>((resolve, reject) => {
    let total = 0;
    let settled = false;
    let waiting = 0;
    let ended = false;
    const cleanup = (): void => {
      rs.off('data', onData);
      rs.off('end', onEnd);
      rs.off('error', onError);
      rs.off('close', onClose);
    };
    const fail = (e: unknown): void => {
      if (settled) return;
      settled = true;
      cleanup();
      // Stop reading: nothing more of this body is wanted.
      rs.pause();
      reject(bodyError(e, limit, what));
    };
    const finish = (): void => {
      if (settled || !ended || waiting > 0) return;
      settled = true;
      cleanup();
      resolve();
    };
    const onData = (chunk: Buffer): void => {
      if (settled) return;
      total += chunk.length;
      if (total > limit) return fail(tooLarge(limit, what));
      let r: void | Promise<void>;
      try {
        r = onChunk(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      } catch (e) {
        return fail(e);
      }
      if (r) {
        waiting++;
        rs.pause();
        r.then(
          () => {
            waiting--;
            if (settled) return;
            if (ended) finish();
            else rs.resume();
          },
          (e: unknown) => fail(e),
        );
      }
    };
    const onEnd = (): void => {
      ended = true;
      finish();
    };
    const onError = (e: unknown): void => fail(e);
    const onClose = (): void => {
      if (!ended) fail(new Error('the connection closed before the body ended'));
    };
    rs.on('data', onData);
    rs.once('end', onEnd);
    rs.once('error', onError);
    rs.once('close', onClose);
    if (rs.readableEnded) onEnd();
    else if (rs.destroyed) onClose();
  });
}

/** The problem a transaction whose time ran out answers (the client did not send in time). */
function timedOut(signal: AbortSignal): DomainError {
  const reason = signal.reason as { message?: string } | undefined;
  return new DomainError('request-timeout', `the request held the session's turn too long and was aborted; nothing was applied (${reason?.message ?? 'time limit'})`);
}

/** Settle with `p`, or reject with a 408 problem as soon as `signal` fires. */
export function abortable<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(timedOut(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(timedOut(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

/** Iterate `source` until it ends or `signal` fires (then a 408 problem, even while a read is pending). */
export async function* abortableChunks<T>(source: AsyncIterable<T>, signal: AbortSignal): AsyncGenerator<T> {
  const it = source[Symbol.asyncIterator]();
  for (;;) {
    const next = await abortable(it.next(), signal);
    if (next.done) return;
    yield next.value;
  }
}

/** Read a whole (small) octet-stream body. */
export async function readBody(request: FastifyRequest, limit: number, what: string): Promise<Uint8Array> {
  const body = request.body;
  if (body === undefined || body === null) return new Uint8Array(0);
  if (!isReadable(body)) throw new DomainError('invalid-request', `${what} must be sent as application/octet-stream`);
  // A small body that arrived with its headers sits whole in the request's buffer: take it without an
  // async iterator (a per-request cost that showed in the /commands profile). Whole means: the message
  // is complete, or every byte its Content-Length announces is buffered (Node marks the request
  // complete only once its end is read, after the handler has started). Anything else streams.
  const raw = request.raw;
  const declared = raw.headers['content-length'] === undefined ? NaN : Number(raw.headers['content-length']);
  const whole = raw.complete || (Number.isSafeInteger(declared) && raw.readableLength === declared);
  if ((body as unknown) === raw && whole && !raw.readableFlowing && raw.readableLength <= limit) {
    const n = raw.readableLength;
    const got: Buffer | null = n === 0 ? null : (raw.read(n) as Buffer | null);
    if (got && got.length === n) return new Uint8Array(got.buffer, got.byteOffset, got.byteLength);
    if (n === 0 && raw.complete) return new Uint8Array(0);
    if (got) raw.unshift(got);
  }
  const parts: Uint8Array[] = [];
  for await (const c of limitedChunks(body, limit, what)) parts.push(c);
  return concatBytes(...parts);
}

/**
 * Map whatever a multipart parse throws to a 4xx domain error: busboy reports malformed bodies as
 * plain Errors, @fastify/multipart its limits as FST_* codes, and a vanished peer as an abort.
 */
export function multipartError(e: unknown, limit: number): DomainError {
  if (e instanceof DomainError) return e;
  const err = e as { code?: string; message?: string };
  const code = err.code ?? '';
  if (code === 'FST_REQ_FILE_TOO_LARGE') return tooLarge(limit, 'the upload');
  if (code === 'FST_PARTS_LIMIT' || code === 'FST_FILES_LIMIT' || code === 'FST_FIELDS_LIMIT') {
    return new DomainError('malformed-upload', `the multipart body has too many parts: ${err.message ?? code}`);
  }
  if (code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE' || /aborted|premature|Unexpected end/i.test(err.message ?? '')) {
    return new DomainError('upload-aborted', `the upload did not arrive whole: ${err.message ?? code}`);
  }
  return new DomainError('malformed-upload', `the multipart body is malformed: ${err.message ?? String(e)}`);
}

/** Iterate multipart parts, turning every parser failure into a 4xx domain error. */
export async function* safeParts<T>(parts: AsyncIterable<T>, limit: number): AsyncGenerator<T> {
  try {
    for await (const p of parts) yield p;
  } catch (e) {
    throw multipartError(e, limit);
  }
}
