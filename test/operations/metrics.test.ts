/**
 * GET /metrics (Prometheus text, prom-client, one registry per app) after some traffic, and
 * GET /readyz with stores that answer, do not answer, or fail.
 */
import { describe, expect, it } from 'vitest';
import { MemorySessionStore } from '../../src/sessions/store.js';
import { startServer, type TestServer } from '../support/server.js';

/** The value of one sample line `name{labels} value` (labels in the order prom-client writes them). */
function sample(text: string, series: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith(series + ' ')) return Number(line.slice(series.length + 1));
  }
  return undefined;
}

async function metrics(srv: TestServer): Promise<string> {
  const r = await srv.fetch('/metrics');
  expect(r.status).toBe(200);
  expect(r.headers.get('content-type')).toMatch(/^text\/plain/);
  return r.text();
}

const PCRREAD_17 = '00c10000000e0000001500000011';
const EXTEND_18 = '00c1000000220000001400000012' + '11'.repeat(20);


describe('GET /metrics', () => {
  it('exposes requests, latency, sessions, queue depth, bytes measured, TPM commands by family and rc, store commits', async () => {
    const srv = await startServer({}, { store: new MemorySessionStore() });
    try {
      const created = await srv.fetch('/v1/sessions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"family":"1.2"}' });
      const { id } = (await created.json()) as { id: string };
      const send = async (hex: string, locality = 0): Promise<string> => {
        const r = await srv.fetch(`/v1/sessions/${id}/commands?locality=${locality}`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: Buffer.from(hex, 'hex') });
        expect(r.status).toBe(200);
        return `0x${Number(r.headers.get('x-tpm-return-code')).toString(16)}`;
      };
      expect(await send(PCRREAD_17)).toBe('0x0');
      expect(await send(PCRREAD_17)).toBe('0x0');
      const refused = await send(EXTEND_18, 0); // PCR 18 from locality 0: the TPM refuses
      expect(refused).not.toBe('0x0');
      const m = await srv.fetch(`/v1/sessions/${id}/measurements?pcr=17`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: Buffer.alloc(1000, 7) });
      expect(m.status).toBe(201);
      const d = await srv.fetch(`/v1/sessions/${id}/drtm`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: Buffer.from('sinit') });
      expect(d.status).toBe(200);
      expect((await srv.fetch('/v1/sessions/nope')).status).toBe(404);

      const text = await metrics(srv);
      expect(sample(text, 'tpm_measure_http_requests_total{method="POST",route="/v1/sessions",status="201"}')).toBe(1);
      expect(sample(text, 'tpm_measure_http_requests_total{method="POST",route="/v1/sessions/:id/commands",status="200"}')).toBe(3);
      expect(sample(text, 'tpm_measure_http_requests_total{method="GET",route="/v1/sessions/:id",status="404"}')).toBe(1);
      expect(sample(text, 'tpm_measure_http_request_duration_seconds_count{method="POST",route="/v1/sessions/:id/commands"}')).toBe(3);
      expect(sample(text, 'tpm_measure_http_request_duration_seconds_bucket{le="+Inf",method="POST",route="/v1/sessions/:id/commands"}')).toBe(3);
      expect(sample(text, 'tpm_measure_sessions_open')).toBe(1);
      expect(sample(text, 'tpm_measure_session_queue_depth')).toBe(0);
      expect(sample(text, 'tpm_measure_measured_bytes_total{kind="measurement"}')).toBe(1000);
      expect(sample(text, 'tpm_measure_measured_bytes_total{kind="drtm"}')).toBe(5);
      // Two PCR reads and the measurement's TPM_Extend succeeded; one extend was refused.
      expect(sample(text, 'tpm_measure_tpm_commands_total{family="1.2",rc="0x0"}')).toBeGreaterThanOrEqual(3);
      expect(sample(text, `tpm_measure_tpm_commands_total{family="1.2",rc="${refused}"}`)).toBe(1);
      // One commit per transaction: three raw commands, the measurement, the dynamic launch.
      expect(sample(text, 'tpm_measure_store_commit_duration_seconds_count')).toBe(5);
      expect(sample(text, 'tpm_measure_store_commit_duration_seconds_sum')).toBeGreaterThan(0);
      expect(srv.violations).toEqual([]);
    } finally {
      await srv.close();
    }
  });

  it('TPM commands sent through the TIS FIFO (mmio) are counted too', async () => {
    const srv = await startServer();
    try {
      const { id } = (await (await srv.fetch('/v1/sessions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"family":"2.0"}' })).json()) as { id: string };
      const before = sample(await metrics(srv), 'tpm_measure_tpm_commands_total{family="2.0",rc="0x0"}') ?? 0;
      // Locality 0: request use, commandReady, write TPM2_GetTestResult, go, read the response.
      const cmd = Buffer.from('80010000000a0000017c', 'hex').toString('base64');
      const ops = [
        { op: 'write', offset: 0x0000, size: 1, value: 0x02 },
        { op: 'write', offset: 0x0018, size: 1, value: 0x40 },
        { op: 'writeBytes', offset: 0x0024, data: cmd },
        { op: 'write', offset: 0x0018, size: 1, value: 0x20 },
      ];
      const r = await srv.fetch(`/v1/sessions/${id}/mmio`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ops }) });
      expect(r.status).toBe(200);
      const after = sample(await metrics(srv), 'tpm_measure_tpm_commands_total{family="2.0",rc="0x0"}') ?? 0;
      expect(after).toBe(before + 1);
    } finally {
      await srv.close();
    }
  });

  it('each app has its own registry: two services in one process do not add up', async () => {
    const a = await startServer();
    const b = await startServer();
    try {
      await a.fetch('/v1/sessions', { method: 'POST' });
      expect(sample(await metrics(a), 'tpm_measure_sessions_open')).toBe(1);
      const tb = await metrics(b);
      expect(sample(tb, 'tpm_measure_sessions_open')).toBe(0);
      expect(sample(tb, 'tpm_measure_http_requests_total{method="POST",route="/v1/sessions",status="201"}')).toBeUndefined();
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe('GET /readyz', () => {
  it('200 when the store answers', async () => {
    const srv = await startServer();
    try {
      const r = await srv.fetch('/readyz');
      expect(r.status).toBe(200);
      expect(await r.json()).toEqual({ status: 'ready' });
    } finally {
      await srv.close();
    }
  });

  for (const [what, ping] of [
    ['does not answer', () => new Promise<void>(() => undefined)],
    ['throws', async () => Promise.reject(new Error('connection refused to db-host-secret:5432'))],
  ] as const) {
    it(`503 not-ready when the store ${what}; /healthz stays 200 (liveness)`, async () => {
      const store = new MemorySessionStore();
      store.ping = ping;
      const srv = await startServer({}, { store });
      try {
        const r = await srv.fetch('/readyz');
        expect(r.status).toBe(503);
        expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
        const body = (await r.json()) as { type: string };
        expect(body.type).toBe('urn:tpm-measure:problem:not-ready');
        expect(JSON.stringify(body)).not.toContain('db-host-secret');
        expect((await srv.fetch('/healthz')).status).toBe(200);
        expect(srv.violations).toEqual([]);
      } finally {
        await srv.close();
      }
    });
  }
});
