/**
 * Large event logs are parsed, replayed and serialized on a worker thread (the event loop stays
 * free), with the same answers as the inline path; every output form is paged.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../support/server.js';
import { Tcg2Log } from '../../src/eventlog/tcg2.js';
import { OFFLOAD_BYTES, eventLogJobStats } from '../../src/http/eventlog-offload.js';
import { runEventLogJob } from '../../src/http/eventlog-jobs.js';
import { loadConfig } from '../../src/config.js';

let srv: TestServer;
beforeAll(async () => {
  srv = await startServer({});
});
afterAll(async () => srv.close());
afterEach(() => expect(srv.violations.splice(0)).toEqual([]));

function bigLog(events: number): Uint8Array {
  const log = new Tcg2Log({ banks: ['sha1', 'sha256'], size: 16 * 1024 * 1024 });
  for (let n = 0; n < events; n++) {
    const ok = log.append({ pcr: n % 16, type: 0xd, digests: { sha1: new Uint8Array(20).fill(n & 255), sha256: new Uint8Array(32).fill((n >> 8) & 255) }, data: new Uint8Array(64).fill(n & 255) });
    if (!ok) throw new Error('log full');
  }
  return log.bytes();
}

const limits = (() => {
  const c = loadConfig({});
  return { maxEventLogBytes: c.maxEventLogBytes, maxEventLogEvents: c.maxEventLogEvents, maxEventDataBytes: c.maxEventDataBytes };
})();

describe('large logs run off the event loop', () => {
  const bytes = bigLog(4000);

  it('the log is above the offload threshold', () => {
    expect(bytes.length).toBeGreaterThan(OFFLOAD_BYTES);
  });

  it('replay and verify of a large log run on the worker and answer exactly what the inline path computes', async () => {
    const before = eventLogJobStats().offloaded;
    const res = await srv.fetch('/v1/event-logs/replay?events=true&offset=10&limit=5', { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: Buffer.from(bytes) });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const body = await res.json();
    const inline = JSON.parse(JSON.stringify(runEventLogJob({ kind: 'replay', bytes, format: 'auto', events: true, offset: 10, limit: 5, output: 'json', limits })));
    expect(body).toEqual(inline);
    const pcrs = { sha256: { '0': (inline.banks as Record<string, string[]>).sha256?.[0] ?? '' } };
    const v = await srv.fetch('/v1/event-logs/verify', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ log: Buffer.from(bytes).toString('base64'), pcrs }) });
    expect(v.status).toBe(200);
    expect(((await v.json()) as { ok: boolean }).ok).toBe(true);
    expect(eventLogJobStats().offloaded).toBe(before + 2);
  });

  it('a parse error found on the worker is the same 422 problem', async () => {
    const broken = bytes.slice(0, bytes.length - 10);
    const res = await srv.fetch('/v1/event-logs/replay', { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: Buffer.from(broken) });
    expect(res.status).toBe(422);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(((await res.json()) as { type: string }).type).toBe('urn:tpm-measure:problem:event-log-invalid');
  });

  it('output=cel-json honours offset and limit (it returned every record)', async () => {
    const res = await srv.fetch('/v1/event-logs/replay?output=cel-json&offset=100&limit=3', { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: Buffer.from(bytes) });
    const body = (await res.json()) as { cel: { recnum: number }[] };
    expect(body.cel.map((r) => r.recnum)).toEqual([100, 101, 102]);
  });
});
