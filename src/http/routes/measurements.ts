/**
 * POST /v1/sessions/{id}/measurements — the headline. The blob is streamed (octet-stream or the
 * multipart file field `blob`) into a measurement sink while the session's queue is held; nothing
 * is applied until the whole request has arrived, and anything that goes wrong rolls the session
 * back to where it was (an aborted, oversized or malformed upload extends nothing and logs nothing).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Multipart } from '@fastify/multipart';
import { DomainError } from '../../errors.js';
import { isLocality } from '../../tpm/engine.js';
import { startMeasurement, type Hashing, type MeasureRequest, type MeasurementSink } from '../../measure/measure.js';
import { eventTypeName } from '../../eventlog/constants.js';
import type { Session } from '../../sessions/session.js';
import { mediaType, route, type HttpContext } from '../context.js';
import { isReadable, limitedChunks, multipartError, safeParts } from '../body.js';

const OPTION_NAMES = ['pcr', 'locality', 'eventType', 'eventData', 'hashing'] as const;
type OptionName = (typeof OPTION_NAMES)[number];
type RawOptions = Partial<Record<OptionName, string>>;

const MAX_EVENT_DATA = 65536;

function parseIntOption(name: string, v: string, min: number, max: number): number {
  const n = /^(0[xX][0-9a-fA-F]{1,8}|[0-9]{1,10})$/.test(v) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new DomainError('invalid-option', `${name} must be an integer in [${min}, ${max}], got ${JSON.stringify(v)}`);
  }
  return n;
}

function parseEventData(v: string | undefined): Uint8Array {
  if (v === undefined) return new Uint8Array(0);
  if (v.startsWith('base64:')) {
    const b64 = v.slice(7);
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 === 1) {
      throw new DomainError('invalid-option', 'eventData with the base64: prefix must be valid base64');
    }
    return new Uint8Array(Buffer.from(b64, 'base64'));
  }
  return new TextEncoder().encode(v);
}

/** The options as given in the query string (only the keys present in the URL). */
function queryOptions(request: FastifyRequest): RawOptions {
  const q = new URLSearchParams(request.url.split('?')[1] ?? '');
  const out: RawOptions = {};
  for (const name of OPTION_NAMES) {
    const v = q.get(name);
    if (v !== null) out[name] = v;
  }
  return out;
}

export function resolveOptions(raw: RawOptions): MeasureRequest {
  const hashing = raw.hashing ?? 'host';
  if (hashing !== 'host' && hashing !== 'tpm') throw new DomainError('invalid-option', `hashing must be host or tpm, got ${JSON.stringify(hashing)}`);
  const locality = parseIntOption('locality', raw.locality ?? '2', 0, 4);
  if (!isLocality(locality)) throw new DomainError('invalid-option', 'locality must be 0..4');
  const eventData = parseEventData(raw.eventData);
  if (eventData.length > MAX_EVENT_DATA) throw new DomainError('invalid-option', `eventData is at most ${MAX_EVENT_DATA} bytes`);
  return {
    pcr: parseIntOption('pcr', raw.pcr ?? '18', 0, 23),
    locality,
    eventType: parseIntOption('eventType', raw.eventType ?? '0x502', 0, 0xffffffff),
    eventData,
    hashing: hashing as Hashing,
  };
}

/** hashing=tpm sends every byte through the TPM's own hash: a smaller, separate limit applies. */
function uploadLimit(ctx: HttpContext, req: MeasureRequest): number {
  return req.hashing === 'tpm' ? Math.min(ctx.config.maxUploadBytes, ctx.config.maxTpmHashingBytes) : ctx.config.maxUploadBytes;
}

async function feed(sink: MeasurementSink, stream: AsyncIterable<Buffer>, limit: number): Promise<void> {
  for await (const chunk of limitedChunks(stream, limit, 'the upload')) await sink.update(chunk);
}

async function measureMultipart(request: FastifyRequest, session: Session, ctx: HttpContext, fromQuery: RawOptions, started: MeasurementSink[]): Promise<MeasurementSink> {
  const fields: RawOptions = {};
  let sink: MeasurementSink | undefined;
  let parts: AsyncIterable<Multipart>;
  try {
    parts = request.parts({ limits: { fileSize: ctx.config.maxUploadBytes, files: 1, fields: OPTION_NAMES.length, fieldSize: MAX_EVENT_DATA * 2 } });
  } catch (e) {
    throw multipartError(e, ctx.config.maxUploadBytes);
  }
  for await (const part of safeParts(parts, ctx.config.maxUploadBytes)) {
    if (part.type === 'field') {
      if (sink) throw new DomainError('malformed-upload', `form field ${part.fieldname} comes after the file; options must come before it`);
      if (!(OPTION_NAMES as readonly string[]).includes(part.fieldname)) {
        throw new DomainError('invalid-option', `unknown form field ${JSON.stringify(part.fieldname)}; allowed: ${OPTION_NAMES.join(', ')}, blob`);
      }
      const name = part.fieldname as OptionName;
      const value = String(part.value);
      if (fromQuery[name] !== undefined && fromQuery[name] !== value) {
        throw new DomainError('invalid-option', `${name} is given both in the query string and as a form field, with different values`);
      }
      fields[name] = value;
      continue;
    }
    if (part.fieldname !== 'blob') throw new DomainError('malformed-upload', `the file field must be named "blob", got ${JSON.stringify(part.fieldname)}`);
    if (sink) throw new DomainError('malformed-upload', 'only one file may be uploaded');
    const req = resolveOptions({ ...fromQuery, ...fields });
    sink = startMeasurement(session, req);
    started.push(sink);
    await feed(sink, part.file, uploadLimit(ctx, req));
    if (part.file.truncated) throw new DomainError('payload-too-large', `the upload is larger than the limit of ${ctx.config.maxUploadBytes} bytes`);
  }
  if (!sink) throw new DomainError('malformed-upload', 'the multipart body has no file field named "blob"');
  return sink;
}

export function registerMeasurementRoutes(app: FastifyInstance, ctx: HttpContext): void {
  route(app, ctx, 'measure', async (request, reply) => {
    const { id } = request.params as { id: string };
    const session = ctx.sessions.get(id);
    const fromQuery = queryOptions(request);
    const multipart = mediaType(request) === 'multipart/form-data';
    // Options from the query are checked before anything is read or queued.
    const octetOptions = multipart ? undefined : resolveOptions(fromQuery);
    const result = await session.transact(async () => {
      const started: MeasurementSink[] = [];
      try {
        let sink: MeasurementSink;
        if (!octetOptions) {
          sink = await measureMultipart(request, session, ctx, fromQuery, started);
        } else {
          const body = request.body;
          if (!isReadable(body)) throw new DomainError('invalid-request', 'the blob must be the request body (application/octet-stream)');
          sink = startMeasurement(session, octetOptions);
          started.push(sink);
          await feed(sink, body, uploadLimit(ctx, octetOptions));
        }
        return await sink.finish();
      } catch (e) {
        for (const s of started) s.abort();
        throw e;
      }
    });
    return reply.code(201).send({ ...result, eventTypeName: eventTypeName(result.eventType) });
  });
}
