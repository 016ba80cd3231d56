/**
 * Stateless event-log services: replay a binary log to PCR values, verify it against expected
 * values and explain mismatches. A thin adapter over src/eventlog.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Multipart } from '@fastify/multipart';
import { decodeBase64Strict, toHex } from '../../bytes/index.js';
import { DomainError } from '../../errors.js';
import {
  EventLogParseError,
  checkExpectedPcrs,
  decodeEventData,
  parseEventLog,
  replayEventLog,
  toCelJson,
  verifyEventLog,
  type ExpectedPcrs,
  type LogEvent,
  type LogFormat,
  type ParsedLog,
} from '../../eventlog/index.js';
import { jsonLimit, mediaType, route, type HttpContext } from '../context.js';
import { limitedChunks, multipartError, readBody, safeParts } from '../body.js';
import { digestsView, eventView } from '../views.js';

type FormatOption = LogFormat | 'auto';

function parse(bytes: Uint8Array, format: FormatOption, ctx: HttpContext): ParsedLog {
  try {
    const { maxEventLogBytes, maxEventLogEvents, maxEventDataBytes } = ctx.config;
    return parseEventLog(bytes, { format, limits: { maxLogBytes: maxEventLogBytes, maxEvents: maxEventLogEvents, maxEventDataSize: maxEventDataBytes } });
  } catch (e) {
    if (e instanceof EventLogParseError) {
      throw new DomainError('event-log-invalid', e.message, { offset: e.offset, recordIndex: e.recordIndex });
    }
    throw e;
  }
}

export function logEventView(e: LogEvent): Record<string, unknown> {
  return { ...eventView(e, digestsView(e.digests)), details: decodeEventData(e.pcr, e.type, e.data) };
}

export function banksHex(pcrs: Partial<Record<string, Uint8Array[]>>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [bank, values] of Object.entries(pcrs)) if (values) out[bank] = values.map(toHex);
  return out;
}

async function verifyInput(request: FastifyRequest, ctx: HttpContext): Promise<{ log: Uint8Array; pcrs: unknown; format?: FormatOption }> {
  if (mediaType(request) === 'application/json') {
    const body = request.body as { log: string; pcrs: unknown; format?: FormatOption };
    const log = decodeBase64Strict(body.log);
    if (!log) throw new DomainError('invalid-request', '`log` must be base64');
    if (log.length > ctx.config.maxEventLogBytes) throw new DomainError('payload-too-large', `the log is larger than ${ctx.config.maxEventLogBytes} bytes`);
    return { log, pcrs: body.pcrs, ...(body.format ? { format: body.format } : {}) };
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
  route(app, ctx, 'replayEventLog', async (request) => {
    const q = request.query as { format?: FormatOption; events?: boolean; offset?: number; limit?: number; output?: 'json' | 'cel-json' };
    const bytes = await readBody(request, ctx.config.maxEventLogBytes, 'the event log');
    const log = parse(bytes, q.format ?? 'auto', ctx);
    const r = replayEventLog(log);
    const offset = q.offset ?? 0;
    const limit = q.limit ?? 1000;
    return {
      format: log.format,
      banks: banksHex(r.pcrs),
      untouched: r.untouched,
      eventCount: log.events.length,
      ...(r.startupLocality !== null ? { startupLocality: r.startupLocality } : {}),
      dynamicLaunch: r.dynamicLaunch,
      ...(r.launchRecord !== null ? { dynamicLaunchRecord: r.launchRecord } : {}),
      warnings: [...log.warnings, ...r.warnings],
      ...(q.events ? { offset, limit, events: log.events.slice(offset, offset + limit).map(logEventView) } : {}),
      ...(q.output === 'cel-json' ? { cel: toCelJson(log) } : {}),
    };
  });

  route(app, ctx, 'verifyEventLog', async (request) => {
    const q = request.query as { format?: FormatOption };
    const input = await verifyInput(request, ctx);
    let expected: ExpectedPcrs;
    try {
      expected = checkExpectedPcrs(input.pcrs);
    } catch (e) {
      throw new DomainError('invalid-request', (e as Error).message);
    }
    const log = parse(input.log, input.format ?? q.format ?? 'auto', ctx);
    const v = verifyEventLog(log, expected);
    return {
      format: log.format,
      ok: v.ok,
      results: v.checks.map((c) => ({
        bank: c.bank,
        pcr: c.pcr,
        expected: c.expected,
        actual: c.actual,
        match: c.match,
        untouched: c.untouched,
        ...(c.events ? { events: c.events } : {}),
        ...(c.likelyCause && c.likelyCause.length > 0 ? { likelyCause: c.likelyCause[0], likelyCauses: c.likelyCause } : {}),
        ...(c.note ? { note: c.note } : {}),
      })),
      dataDigestFindings: v.dataDigestFindings,
    };
  }, { bodyLimit: jsonLimit(ctx, Math.ceil(ctx.config.maxEventLogBytes / 3) * 4 + VERIFY_JSON_OVERHEAD) });
}
