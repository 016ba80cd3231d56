/**
 * Stateless event-log services: replay a binary log to PCR values, verify it against expected
 * values and explain mismatches. A thin adapter over src/eventlog.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Multipart } from '@fastify/multipart';
import { DomainError } from '../../errors.js';
import { jsonLimit, mediaType, route, type HttpContext } from '../context.js';
import { limitedChunks, multipartError, readBody, safeParts } from '../body.js';
import { expectedPcrs, type FormatOption, type ParseLimitsConfig } from '../eventlog-jobs.js';
import { eventLogResponse } from '../eventlog-offload.js';

async function verifyInput(request: FastifyRequest, ctx: HttpContext): Promise<{ log: Uint8Array | string; pcrs: unknown; format?: FormatOption }> {
  if (mediaType(request) === 'application/json') {
    // The base64 text goes to the job as it is: decoding a large log is the job's (worker's) work.
    const body = request.body as { log: string; pcrs: unknown; format?: FormatOption };
    return { log: body.log, pcrs: body.pcrs, ...(body.format ? { format: body.format } : {}) };
  }
  let log: Uint8Array | undefined;
  let pcrsText: string | undefined;
  let parts: AsyncIterable<Multipart>;
  try {
    parts = request.parts({ limits: { fileSize: ctx.config.maxEventLogBytes, files: 1, fields: 2, fieldSize: 1024 * 1024 } });
  } catch (e) {
    throw multipartError(e, ctx.config.maxEventLogBytes);
  }
  for await (const part of safeParts(parts, ctx.config.maxEventLogBytes)) {
    if (part.type === 'field') {
      if (part.fieldname !== 'pcrs') throw new DomainError('invalid-request', `unknown form field ${JSON.stringify(part.fieldname)}; expected pcrs and the file log`);
      pcrsText = String(part.value);
      continue;
    }
    if (part.fieldname !== 'log') throw new DomainError('malformed-upload', 'the file field must be named "log"');
    const chunks: Uint8Array[] = [];
    for await (const c of limitedChunks(part.file, ctx.config.maxEventLogBytes, 'the event log')) chunks.push(c);
    if (part.file.truncated) throw new DomainError('payload-too-large', `the log is larger than ${ctx.config.maxEventLogBytes} bytes`);
    log = new Uint8Array(Buffer.concat(chunks));
  }
  if (!log) throw new DomainError('malformed-upload', 'the multipart body has no file field named "log"');
  if (pcrsText === undefined) throw new DomainError('invalid-request', 'the multipart body has no field named "pcrs"');
  let pcrs: unknown;
  try {
    pcrs = JSON.parse(pcrsText);
  } catch {
    throw new DomainError('invalid-request', '`pcrs` must be JSON: {bank: {index: hex}}');
  }
  return { log, pcrs };
}

/** Beside the base64 log, a verify body holds at most 6 banks × 24 PCR values and a format. */
const VERIFY_JSON_OVERHEAD = 64 * 1024;

export function registerEventLogsRoutes(app: FastifyInstance, ctx: HttpContext): void {
  const limits = (): ParseLimitsConfig => ({ maxEventLogBytes: ctx.config.maxEventLogBytes, maxEventLogEvents: ctx.config.maxEventLogEvents, maxEventDataBytes: ctx.config.maxEventDataBytes });
  const send = (reply: FastifyReply, body: Record<string, unknown> | string): FastifyReply => (typeof body === 'string' ? reply.type('application/json; charset=utf-8').send(body) : reply.send(body));

  route(app, ctx, 'replayEventLog', async (request, reply) => {
    const q = request.query as { format?: FormatOption; events?: boolean; offset?: number; limit?: number; output?: 'json' | 'cel-json' };
    const bytes = await readBody(request, ctx.config.maxEventLogBytes, 'the event log');
    const body = await eventLogResponse({
      kind: 'replay',
      bytes,
      format: q.format ?? 'auto',
      events: q.events ?? false,
      offset: q.offset ?? 0,
      limit: q.limit ?? 1000,
      output: q.output ?? 'json',
      limits: limits(),
    });
    return send(reply, body);
  });

  route(app, ctx, 'verifyEventLog', async (request, reply) => {
    const q = request.query as { format?: FormatOption };
    const input = await verifyInput(request, ctx);
    expectedPcrs(input.pcrs);
    const body = await eventLogResponse({ kind: 'verify', bytes: input.log, format: input.format ?? q.format ?? 'auto', pcrs: input.pcrs, limits: limits() });
    return send(reply, body);
  }, { bodyLimit: jsonLimit(ctx, Math.ceil(ctx.config.maxEventLogBytes / 3) * 4 + VERIFY_JSON_OVERHEAD) });
}
