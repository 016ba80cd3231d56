/**
 * Every operation in openapi.yaml, table-driven, on a service with two API keys A and B:
 * - with key A on a session A owns: never 401, never the ownership 404 (session-not-found);
 * - with key B: a session route is a 404 session-not-found (as if the session did not exist) and
 *   changes nothing of A's session; GET /v1/sessions never shows A's sessions; other /v1
 *   operations answer B as they answer A;
 * - with no key and with malformed or unknown keys: 401 problem with WWW-Authenticate: Bearer on
 *   every keyed operation; the open ones (probes, the contract) answer as usual.
 * The table must name exactly the contract's operations: a new route without an entry fails here.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadContract, type Operation } from '../../src/http/openapi.js';
import { startServer, type TestServer } from '../support/server.js';
import { apiKeysOf, newTestKey } from './support.js';

const contract = loadContract();
const A = newTestKey();
const B = newTestKey();

interface Sample {
  /** Request body and its media type. */
  body?: { type: string; data: string | Uint8Array };
  query?: string;
  /** Runs with key A before the request (e.g. open the socket that getSocket shows). */
  setup?: (srv: TestServer, id: string) => Promise<void>;
}

const json = (v: unknown): Sample['body'] => ({ type: 'application/json', data: JSON.stringify(v) });
const octets = (b: Uint8Array | string): Sample['body'] => ({ type: 'application/octet-stream', data: typeof b === 'string' ? new TextEncoder().encode(b) : b });
const uefiLog = readFileSync(new URL('../fixtures/eventlogs/tpm2tools-event-uefiaction.bin', import.meta.url));
const mbi = Buffer.from([8, 0, 0, 0, 0, 0, 0, 0]);
const launch = { sinit: { part: 'sinit' }, mbi: { part: 'mbi' }, parts: { sinit: Buffer.from('sinit').toString('base64'), mbi: mbi.toString('base64') } };
const openSocket = async (srv: TestServer, id: string): Promise<void> => {
  const r = await srv.fetch(`/v1/sessions/${id}/socket`, { method: 'POST', headers: A.auth });
  expect(r.status).toBe(201);
};

/** One entry per operationId of openapi.yaml. */
const SAMPLES: Record<string, Sample> = {
  health: {},
  ready: {},
  getMetrics: {},
  getOpenApi: {},
  createSession: { body: json({ family: '2.0' }) },
  listSessions: {},
  getSession: {},
  deleteSession: {},
  getSessionSnapshot: {},
  forkSession: {},
  // TPM2_GetTestResult
  sendCommand: { body: octets(Uint8Array.from([0x80, 0x01, 0, 0, 0, 0x0a, 0, 0, 0x01, 0x7c])) },
  dynamicLaunch: { body: octets('sinit') },
  getPcrs: {},
  measure: { body: octets('kernel'), query: 'pcr=17' },
  getEventLog: {},
  getEventLogPointer: {},
  mmio: { body: json({ ops: [{ op: 'read', offset: 0, size: 1 }] }) },
  getTisState: {},
  openSocket: {},
  getSocket: { setup: openSocket },
  closeSocket: { setup: openSocket },
  replayEventLog: { body: octets(uefiLog) },
  verifyEventLog: { body: json({ log: uefiLog.toString('base64'), pcrs: { sha256: { '4': '00'.repeat(32) } } }) },
  predictLaunch: { body: json({ family: '2.0', ...launch }) },
  launchSession: { body: json(launch) },
};

const MALFORMED: Array<[string, string]> = [
  ['another scheme', `Basic ${Buffer.from('a:b').toString('base64')}`],
  ['scheme only', 'Bearer'],
  ['scheme and spaces', 'Bearer    '],
  ['two tokens', `Bearer ${A.key} ${A.key}`],
  ['token with a comma', `Bearer ${A.key},x`],
  ['the key without a scheme', A.key],
  ['an unknown key', `Bearer ${A.key}x`],
  ['the API_KEYS entry instead of the key', `Bearer ${A.entry.slice('sha256:'.length)}`],
  ['a very long token', `Bearer ${'a'.repeat(4000)}`],
];

let srv: TestServer;
beforeAll(async () => {
  srv = await startServer({ apiKeys: apiKeysOf(A, B) });
});
afterAll(async () => srv.close());

async function newSession(): Promise<string> {
  const r = await srv.fetch('/v1/sessions', { method: 'POST', headers: { ...A.auth, 'content-type': 'application/json' }, body: JSON.stringify({ family: '2.0' }) });
  expect(r.status).toBe(201);
  return ((await r.json()) as { id: string }).id;
}

async function call(op: Operation, id: string, headers: Record<string, string>): Promise<Response> {
  const sample = SAMPLES[op.operationId] ?? {};
  const path = op.path.replace('{id}', id) + (sample.query ? `?${sample.query}` : '');
  const init: RequestInit = { method: op.method, headers: { ...headers } };
  if (sample.body) {
    init.body = sample.body.data as RequestInit['body'];
    (init.headers as Record<string, string>)['content-type'] = sample.body.type;
  }
  return srv.fetch(path, init);
}

async function problemType(r: Response): Promise<string | undefined> {
  if (!(r.headers.get('content-type') ?? '').startsWith('application/problem+json')) return undefined;
  return ((await r.json()) as { type: string }).type;
}

const ops = [...contract.operations.values()];

describe('the ownership table covers the contract', () => {
  it('has exactly one entry per operation of openapi.yaml', () => {
    expect(Object.keys(SAMPLES).sort()).toEqual(ops.map((o) => o.operationId).sort());
  });
  it('every operation that is not a probe, the contract or /metrics takes the key', () => {
    for (const op of ops) expect(op.keyed, op.operationId).toBe(op.path.startsWith('/v1/') || op.path === '/metrics');
  });
});

describe.each(ops.map((op) => [op.operationId, op] as const))('%s', (_name, op) => {
  it('key A on its own session: neither 401 nor the ownership 404', async () => {
    const id = await newSession();
    await SAMPLES[op.operationId]?.setup?.(srv, id);
    const r = await call(op, id, A.auth);
    expect(r.status, `${op.operationId}: ${r.status}`).not.toBe(401);
    expect(r.status, `${op.operationId}`).toBeLessThan(500);
    if (r.status === 404) expect(await problemType(r)).not.toBe('urn:tpm-measure:problem:session-not-found');
    // The samples are valid requests: A gets what it asked for.
    expect(r.status, `${op.operationId}: ${r.status} ${r.status >= 400 ? await r.clone().text() : ''}`).toBeLessThan(300);
  });

  it("key B on A's session: 404 session-not-found for session routes, A's session untouched; others as for A", async () => {
    const id = await newSession();
    await SAMPLES[op.operationId]?.setup?.(srv, id);
    const before = await (await srv.fetch(`/v1/sessions/${id}/pcrs`, { headers: A.auth })).json();
    const r = await call(op, id, B.auth);
    if (op.path.includes('{id}')) {
      expect(r.status, op.operationId).toBe(404);
      expect(await problemType(r)).toBe('urn:tpm-measure:problem:session-not-found');
      // A still has the session, unchanged (B's delete, command, measurement … did nothing).
      const after = await srv.fetch(`/v1/sessions/${id}/pcrs`, { headers: A.auth });
      expect(after.status).toBe(200);
      expect(await after.json()).toEqual(before);
      const session = (await (await srv.fetch(`/v1/sessions/${id}`, { headers: A.auth })).json()) as { measurements: number };
      expect(session.measurements).toBe(0);
      if (op.operationId === 'closeSocket') expect((await srv.fetch(`/v1/sessions/${id}/socket`, { headers: A.auth })).status).toBe(200);
    } else {
      expect(r.status, op.operationId).not.toBe(401);
      expect(r.status, op.operationId).toBeLessThan(500);
      if (op.operationId === 'listSessions') {
        const listed = ((await r.json()) as { sessions: Array<{ id: string }> }).sessions.map((s) => s.id);
        expect(listed).not.toContain(id);
      }
    }
  });

  it('no key, a malformed header or an unknown key: 401 with WWW-Authenticate: Bearer (keyed operations only)', async () => {
    const id = await newSession();
    for (const [what, header] of [['no header', undefined], ...MALFORMED] as Array<[string, string | undefined]>) {
      const r = await call(op, id, header === undefined ? {} : { authorization: header });
      if (!op.keyed) {
        expect(r.status, `${op.operationId} with ${what}`).toBe(200);
        continue;
      }
      expect(r.status, `${op.operationId} with ${what}`).toBe(401);
      expect(r.headers.get('www-authenticate') ?? '', what).toMatch(/^Bearer\b/);
      const body = (await r.json()) as { type: string; status: number; detail: string };
      expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(body.type).toBe('urn:tpm-measure:problem:unauthorized');
      expect(body.status).toBe(401);
      // The key never comes back.
      expect(JSON.stringify(body)).not.toContain(A.key);
    }
    // Nothing happened to the session: still there, nothing measured.
    const s = (await (await srv.fetch(`/v1/sessions/${id}`, { headers: A.auth })).json()) as { measurements: number };
    expect(s.measurements).toBe(0);
  });
});

describe('HEAD, which Fastify adds for every GET', () => {
  it('takes the same key and ownership checks', async () => {
    for (const op of ops.filter((o) => o.method === 'GET')) {
      const id = await newSession();
      const path = op.path.replace('{id}', id);
      const head = (headers: Record<string, string>) => fetch(srv.baseUrl + path, { method: 'HEAD', headers });
      expect((await head(A.auth)).status, op.operationId).toBeLessThan(op.operationId === 'getSocket' ? 500 : 300);
      if (op.keyed) expect((await head({})).status, op.operationId).toBe(401);
      if (op.path.includes('{id}')) expect((await head(B.auth)).status, op.operationId).toBe(404);
    }
  });
});

describe('lists and contract', () => {
  it("B's list holds only B's sessions, A's only A's", async () => {
    const a = await newSession();
    const rb = await srv.fetch('/v1/sessions', { method: 'POST', headers: { ...B.auth, 'content-type': 'application/json' }, body: '{}' });
    const b = ((await rb.json()) as { id: string }).id;
    const list = async (k: typeof A) => ((await (await srv.fetch('/v1/sessions', { headers: k.auth })).json()) as { sessions: Array<{ id: string }> }).sessions.map((s) => s.id);
    const la = await list(A);
    const lb = await list(B);
    expect(la).toContain(a);
    expect(la).not.toContain(b);
    expect(lb).toContain(b);
    expect(lb).not.toContain(a);
  });

  it('every response above matched the contract (401s included)', () => {
    expect(srv.violations).toEqual([]);
  });
});

describe('without API keys', () => {
  it('the service runs open: no header needed, a stray Authorization header is ignored', async () => {
    const open = await startServer();
    try {
      expect((await open.fetch('/v1/sessions')).status).toBe(200);
      expect((await open.fetch('/v1/sessions', { headers: { authorization: 'Bearer whatever' } })).status).toBe(200);
      expect((await open.fetch('/metrics')).status).toBe(200);
      expect(open.violations).toEqual([]);
    } finally {
      await open.close();
    }
  });
});

describe('/metrics with keys', () => {
  it('needs a key unless METRICS_OPEN', async () => {
    expect((await srv.fetch('/metrics')).status).toBe(401);
    expect((await srv.fetch('/metrics', { headers: B.auth })).status).toBe(200);
    const open = await startServer({ apiKeys: apiKeysOf(A), metricsOpen: true });
    try {
      expect((await open.fetch('/metrics')).status).toBe(200);
      expect((await open.fetch('/v1/sessions')).status).toBe(401);
    } finally {
      await open.close();
    }
  });
});
