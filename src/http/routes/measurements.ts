/**
 * POST /v1/sessions/{id}/measurements — the headline. The blob is streamed (octet-stream or the
 * multipart file field `blob`); nothing is applied until the whole request has arrived, and anything
 * that goes wrong leaves the session as it was.
 *
 * The network stays out of the session's turn wherever the semantics allow: a `hashing=host` upload is
 * received and hashed first, and only the extend and the log entry take the turn. A `hashing=tpm`
 * upload needs the TPM for as long as the data flows, so it holds the turn, bounded by
 * SESSION_TURN_TIMEOUT_SECONDS: a client that stalls longer gets a 408 and nothing is applied.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Multipart } from '@fastify/multipart';
import { DomainError } from '../../errors.js';
import { applyMeasurement, measurementBanks, startMeasurement, type MeasureRequest, type MeasureResult } from '../../measure/measure.js';
import { MEASURE_OPTION_NAMES, resolveMeasureOptions, type MeasureOptionName, type RawMeasureOptions } from '../../measure/options.js';
import { ParallelHasher } from '../../hash/parallel.js';
import { eventTypeName } from '../../eventlog/constants.js';
import type { Session } from '../../sessions/session.js';
import type { BankName } from '../../hash/index.js';
import { mediaType, ownerOf, route, type HttpContext } from '../context.js';
import { abortable, abortableChunks, isReadable, limitedChunks, multipartError, pumpChunks, safeParts } from '../body.js';
import { strictQuery } from '../query.js';

/** The options as given in the query string (only the keys present in the URL). */
function queryOptions(request: FastifyRequest): RawMeasureOptions {
  const q = strictQuery(request.url);
  const out: RawMeasureOptions = {};
  for (const name of MEASURE_OPTION_NAMES) {
    const v = q.get(name);
    if (v !== undefined) out[name] = v[0];
  }
  return out;
}

/** Receive and hash a whole blob (before the session's turn). */
async function hashUpload(session: Session, stream: AsyncIterable<Buffer>, limit: number): Promise<{ digests: Map<BankName, Uint8Array>; size: number }> {
  const hasher = new ParallelHasher(measurementBanks(session));
  try {
    await pumpChunks(stream, limit, 'the upload', (chunk) => hasher.update(chunk));
    return { digests: await hasher.digests(), size: hasher.bytes };
  } finally {
    hasher.abort();
  }
}

/**
 * Stream the blob through the TPM inside the session's turn, bounded in time; `after` runs in the
 * same transaction once the blob is in (the rest of a multipart body must still be checked).
 */
function measureTpm(session: Session, ctx: HttpContext, req: MeasureRequest, stream: AsyncIterable<Buffer>, after: () => Promise<void> = async () => {}): Promise<MeasureResult> {
  const limit = Math.min(ctx.config.maxUploadBytes, ctx.config.maxTpmHashingBytes);
  return session.transact(
    async (signal) => {
      const sink = startMeasurement(session, req);
      try {
        for await (const chunk of abortableChunks(limitedChunks(stream, limit, 'the upload'), signal)) await sink.update(chunk);
        await abortable(after(), signal);
        return await sink.finish();
      } catch (e) {
        sink.abort();
        throw e;
      }
    },
    { timeoutMs: ctx.config.turnTimeoutMs },
  );
}

async function measureStream(session: Session, ctx: HttpContext, req: MeasureRequest, stream: AsyncIterable<Buffer>): Promise<MeasureResult> {
  if (req.hashing === 'tpm') return measureTpm(session, ctx, req, stream);
  const { digests, size } = await hashUpload(session, stream, ctx.config.maxUploadBytes);
  return session.transact(() => applyMeasurement(session, req, digests, size));
}

/** Whatever follows the file part is an error: options come first, and there is one file. */
async function noMoreParts(parts: AsyncIterator<Multipart>): Promise<void> {
  for (let next = await parts.next(); !next.done; next = await parts.next()) {
    const part = next.value;
    if (part.type === 'field') throw new DomainError('malformed-upload', `form field ${part.fieldname} comes after the file; options must come before it`);
    throw new DomainError('malformed-upload', 'only one file may be uploaded');
  }
}

async function measureMultipart(request: FastifyRequest, session: Session, ctx: HttpContext, fromQuery: RawMeasureOptions): Promise<MeasureResult> {
  const fields: RawMeasureOptions = {};
  let parts: AsyncIterable<Multipart>;
  const maxField = ctx.config.maxMeasurementEventDataBytes * 2 + 16;
  try {
    parts = request.parts({ limits: { fileSize: ctx.config.maxUploadBytes, files: 1, fields: MEASURE_OPTION_NAMES.length, fieldSize: maxField } });
  } catch (e) {
    throw multipartError(e, ctx.config.maxUploadBytes);
  }
  const it = safeParts(parts, ctx.config.maxUploadBytes)[Symbol.asyncIterator]();
  for (let next = await it.next(); !next.done; next = await it.next()) {
    const part = next.value;
    if (part.type === 'field') {
      if (!(MEASURE_OPTION_NAMES as readonly string[]).includes(part.fieldname)) {
        throw new DomainError('invalid-option', `unknown form field ${JSON.stringify(part.fieldname)}; allowed: ${MEASURE_OPTION_NAMES.join(', ')}, blob`);
      }
      const name = part.fieldname as MeasureOptionName;
      const value = String(part.value);
      if (fields[name] !== undefined) throw new DomainError('invalid-option', `form field ${name} is given more than once`);
      if (fromQuery[name] !== undefined && fromQuery[name] !== value) {
        throw new DomainError('invalid-option', `${name} is given both in the query string and as a form field, with different values`);
      }
      fields[name] = value;
      continue;
    }
    if (part.fieldname !== 'blob') throw new DomainError('malformed-upload', `the file field must be named "blob", got ${JSON.stringify(part.fieldname)}`);
    const req = resolveMeasureOptions({ ...fromQuery, ...fields }, ctx.config.maxMeasurementEventDataBytes);
    const tooLarge = (): void => {
      if (part.file.truncated) throw new DomainError('payload-too-large', `the upload is larger than the limit of ${ctx.config.maxUploadBytes} bytes`);
    };
    if (req.hashing === 'tpm') {
      return measureTpm(session, ctx, req, part.file, async () => {
        tooLarge();
        await noMoreParts(it);
      });
    }
    const { digests, size } = await hashUpload(session, part.file, ctx.config.maxUploadBytes);
    tooLarge();
    await noMoreParts(it);
    return session.transact(() => applyMeasurement(session, req, digests, size));
  }
  throw new DomainError('malformed-upload', 'the multipart body has no file field named "blob"');
}

export function registerMeasurementRoutes(app: FastifyInstance, ctx: HttpContext): void {
  route(app, ctx, 'measure', async (request, reply) => {
    const { id } = request.params as { id: string };
    const session = await ctx.sessions.get(id, ownerOf(request));
    const fromQuery = queryOptions(request);
    let result: MeasureResult;
    if (mediaType(request) === 'multipart/form-data') {
      result = await measureMultipart(request, session, ctx, fromQuery);
    } else {
      // Options from the query are checked before anything is read.
      const req = resolveMeasureOptions(fromQuery, ctx.config.maxMeasurementEventDataBytes);
      const body = request.body;
      if (!isReadable(body)) throw new DomainError('invalid-request', 'the blob must be the request body (application/octet-stream)');
      result = await measureStream(session, ctx, req, body);
    }
    ctx.metrics.measuredBytes('measurement', result.size);
    return reply.code(201).send({ ...result, eventTypeName: eventTypeName(result.eventType) });
  });
}
