/**
 * The parser limits of the event-log endpoints are configuration (MAX_EVENT_LOG_EVENTS,
 * MAX_EVENT_DATA_BYTES): past them a log is a 422 naming the offset and record, never unbounded work.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { EVENTLOG_FIXTURE_DIR } from '../fixtures/eventlogs/index.js';
import { startServer, type TestServer } from '../support/server.js';

const VECTOR = join(EVENTLOG_FIXTURE_DIR, 'tpm2tools-event-arch-linux.bin');
let srv: TestServer;
beforeAll(async () => {
  srv = await startServer({ maxEventLogEvents: 10, maxEventDataBytes: 64 });
});
afterAll(async () => srv.close());

it('a log with more records than MAX_EVENT_LOG_EVENTS, or bigger event data than MAX_EVENT_DATA_BYTES, is 422', async () => {
  const log = readFileSync(VECTOR);
  const res = await srv.fetch('/v1/event-logs/replay', { method: 'POST', body: log, headers: { 'content-type': 'application/octet-stream' } });
  expect(res.status).toBe(422);
  const p = (await res.json()) as { type: string; offset: number; recordIndex: number; detail: string };
  expect(p.type).toBe('urn:tpm-measure:problem:event-log-invalid');
  expect(p.offset).toBeGreaterThan(0);
  expect(p.recordIndex).toBeGreaterThanOrEqual(0);
  expect(p.recordIndex).toBeLessThanOrEqual(10);
  expect(srv.violations).toEqual([]);
});
