/**
 * The work behind POST /v1/event-logs/replay and /verify, from bytes to the response body, as plain
 * functions of plain data: they run inline for small logs and on a worker thread for large ones
 * (src/http/eventlog-offload.ts), so a 16 MiB log never holds the event loop.
 */
import { decodeBase64Strict, toHex } from '../bytes/index.js';
import { DomainError } from '../errors.js';
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
} from '../eventlog/index.js';
import { digestsView, eventView } from './views.js';

export type FormatOption = LogFormat | 'auto';

export interface ParseLimitsConfig {
  maxEventLogBytes: number;
  maxEventLogEvents: number;
  maxEventDataBytes: number;
}

export interface ReplayJob {
  kind: 'replay';
  bytes: Uint8Array;
  format: FormatOption;
  events: boolean;
  offset: number;
  limit: number;
  output: 'json' | 'cel-json';
  limits: ParseLimitsConfig;
}

export interface VerifyJob {
  kind: 'verify';
  /** The log, or its base64 text (decoded by the job, off the event loop when the log is large). */
  bytes: Uint8Array | string;
  format: FormatOption;
  pcrs: unknown;
  limits: ParseLimitsConfig;
}

export type EventLogJob = ReplayJob | VerifyJob;

function parse(bytes: Uint8Array, format: FormatOption, l: ParseLimitsConfig): ParsedLog {
  try {
    return parseEventLog(bytes, { format, limits: { maxLogBytes: l.maxEventLogBytes, maxEvents: l.maxEventLogEvents, maxEventDataSize: l.maxEventDataBytes } });
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

/** The expected set, checked before any log work (a 400 names what is wrong). */
export function expectedPcrs(pcrs: unknown): ExpectedPcrs {
  try {
    return checkExpectedPcrs(pcrs);
  } catch (e) {
    throw new DomainError('invalid-request', (e as Error).message);
  }
}

function replay(j: ReplayJob): Record<string, unknown> {
  const log = parse(j.bytes, j.format, j.limits);
  const r = replayEventLog(log);
  return {
    format: log.format,
    banks: banksHex(r.pcrs),
    untouched: r.untouched,
    eventCount: log.events.length,
    ...(r.startupLocality !== null ? { startupLocality: r.startupLocality } : {}),
    dynamicLaunch: r.dynamicLaunch,
    ...(r.launchRecord !== null ? { dynamicLaunchRecord: r.launchRecord } : {}),
    warnings: [...log.warnings, ...r.warnings],
    ...(j.events ? { offset: j.offset, limit: j.limit, events: log.events.slice(j.offset, j.offset + j.limit).map(logEventView) } : {}),
    ...(j.output === 'cel-json' ? { cel: toCelJson(log, { offset: j.offset, limit: j.limit }) } : {}),
  };
}

/** The log bytes of a job: base64 text is decoded strictly and held to MAX_EVENT_LOG_BYTES. */
function logBytes(b: Uint8Array | string, l: ParseLimitsConfig): Uint8Array {
  if (typeof b !== 'string') return b;
  const bytes = decodeBase64Strict(b);
  if (!bytes) throw new DomainError('invalid-request', '`log` must be base64');
  if (bytes.length > l.maxEventLogBytes) throw new DomainError('payload-too-large', `the log is larger than ${l.maxEventLogBytes} bytes`);
  return bytes;
}

/** The size of the log a job carries (base64 text counts as what it decodes to). */
export function jobLogSize(j: EventLogJob): number {
  return typeof j.bytes === 'string' ? Math.floor((j.bytes.length * 3) / 4) : j.bytes.length;
}

function verify(j: VerifyJob): Record<string, unknown> {
  const expected = expectedPcrs(j.pcrs);
  const log = parse(logBytes(j.bytes, j.limits), j.format, j.limits);
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
}

export function runEventLogJob(j: EventLogJob): Record<string, unknown> {
  return j.kind === 'replay' ? replay(j) : verify(j);
}
