/**
 * Limits answered as problem+json: the rate limit per key (429 rate-limited + Retry-After), sessions
 * per key (429 too-many-sessions), load shedding (503 overloaded + Retry-After, from
 * @fastify/under-pressure), and probes exempt from both.
 */
import { describe, expect, it } from 'vitest';
import { startServer } from '../support/server.js';
import { apiKeysOf, newTestKey } from './support.js';

const A = newTestKey();
const B = newTestKey();

async function expectProblem(r: Response, status: number, type: string): Promise<Record<string, unknown>> {
  expect(r.status).toBe(status);
  expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const body = (await r.json()) as Record<string, unknown>;
  expect(body.type).toBe(`urn:tpm-measure:problem:${type}`);
  expect(body.status).toBe(status);
  expect(JSON.stringify(body)).not.toMatch(/at \S+ \(|node_modules|\/src\//);
  return body;
}

describe('rate limit (RATE_LIMIT_MAX per RATE_LIMIT_WINDOW_SECONDS)', () => {
  it('per key: the key over its limit gets 429 rate-limited with Retry-After; another key does not', async () => {
    const srv = await startServer({ apiKeys: apiKeysOf(A, B), rateLimitMax: 3, rateLimitWindowMs: 600_000 });
    try {
      for (let i = 0; i < 3; i++) expect((await srv.fetch('/v1/sessions', { headers: A.auth })).status).toBe(200);
      const r = await srv.fetch('/v1/sessions', { headers: A.auth });
      const body = await expectProblem(r, 429, 'rate-limited');
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(body.limit).toBe(3);
      // The count is per key, across routes.
      expect((await srv.fetch('/v1/sessions', { headers: B.auth })).status).toBe(200);
      await expectProblem(await srv.fetch('/v1/sessions/x/pcrs', { headers: A.auth }), 429, 'rate-limited');
      // Probes, the contract and /metrics are never limited.
      for (let i = 0; i < 5; i++) {
        expect((await srv.fetch('/healthz')).status).toBe(200);
        expect((await srv.fetch('/readyz')).status).toBe(200);
        expect((await srv.fetch('/metrics', { headers: A.auth })).status).toBe(200);
      }
      expect(srv.violations).toEqual([]);
    } finally {
      await srv.close();
    }
  });

  it('without keys: per client address', async () => {
    const srv = await startServer({ rateLimitMax: 2, rateLimitWindowMs: 600_000 });
    try {
      expect((await srv.fetch('/v1/sessions')).status).toBe(200);
      expect((await srv.fetch('/v1/sessions')).status).toBe(200);
      await expectProblem(await srv.fetch('/v1/sessions', { method: 'POST' }), 429, 'rate-limited');
      expect(srv.violations).toEqual([]);
    } finally {
      await srv.close();
    }
  });
});

describe('sessions per key (MAX_SESSIONS_PER_KEY)', () => {
  it('a key at its maximum gets 429 too-many-sessions with Retry-After; another key can still create', async () => {
    const srv = await startServer({ apiKeys: apiKeysOf(A, B), maxSessionsPerKey: 2 });
    try {
      const create = (k: typeof A) => srv.fetch('/v1/sessions', { method: 'POST', headers: k.auth });
      expect((await create(A)).status).toBe(201);
      const second = (await (await create(A)).json()) as { id: string };
      const r = await create(A);
      const body = await expectProblem(r, 429, 'too-many-sessions');
      expect(body.maxSessionsPerKey).toBe(2);
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
      expect((await create(B)).status).toBe(201);
      // Deleting one frees a place.
      expect((await srv.fetch(`/v1/sessions/${second.id}`, { method: 'DELETE', headers: A.auth })).status).toBe(204);
      expect((await create(A)).status).toBe(201);
      expect(srv.violations).toEqual([]);
    } finally {
      await srv.close();
    }
  });
});

describe('load shedding (@fastify/under-pressure)', () => {
  it('503 overloaded problem with Retry-After while over a limit; probes and /metrics still answer', async () => {
    // Any heap is above 1 byte: the service is under pressure from its first sample on.
    const srv = await startServer({ apiKeys: apiKeysOf(A), shedHeapUsedBytes: 1, shedSampleMs: 10, shedRetryAfterSeconds: 7 });
    try {
      let r = await srv.fetch('/v1/sessions', { headers: A.auth });
      // Bounded wait for the first sample (10 ms interval); not a timing assertion.
      for (let i = 0; i < 500 && r.status !== 503; i++) {
        await new Promise((res) => setTimeout(res, 10));
        r = await srv.fetch('/v1/sessions', { headers: A.auth });
      }
      await expectProblem(r, 503, 'overloaded');
      expect(r.headers.get('retry-after')).toBe('7');
      // Shed before authentication: no key needed to be refused cheaply.
      await expectProblem(await srv.fetch('/v1/sessions', { method: 'POST' }), 503, 'overloaded');
      expect((await srv.fetch('/healthz')).status).toBe(200);
      expect((await srv.fetch('/readyz')).status).toBe(200);
      expect((await srv.fetch('/openapi.yaml')).status).toBe(200);
      expect((await srv.fetch('/metrics', { headers: A.auth })).status).toBe(200);
      expect(srv.violations).toEqual([]);
    } finally {
      await srv.close();
    }
  });
});
