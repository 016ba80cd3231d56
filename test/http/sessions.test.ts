/**
 * Sessions over HTTP, through the client generated from openapi.yaml against a listening server.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../support/server.js';

let srv: TestServer;
beforeAll(async () => {
  srv = await startServer({ maxSessions: 5 });
});
afterAll(async () => srv.close());
afterEach(async () => {
  expect(srv.violations.splice(0)).toEqual([]);
  for (const s of await srv.ctx.sessions.list()) await srv.ctx.sessions.delete(s.id);
});

describe('session lifecycle', () => {
  it('creates a TPM 1.2 session with the documented defaults', async () => {
    const { data, response } = await srv.client.POST('/v1/sessions', { body: { family: '1.2' } });
    expect(response.status).toBe(201);
    expect(data?.family).toBe('1.2');
    expect(data?.banks).toEqual(['sha1']);
    expect(data?.compat).toBe('xen');
    expect(data?.logSize).toBe(32768);
    expect(data?.startup).toBe(true);
    expect(data?.tisProfile).toBe('tis-1.2');
    // ≥128 random bits, URL-safe
    expect(data?.id).toMatch(/^[A-Za-z0-9_-]{22,}$/);
    expect(response.headers.get('location')).toBe(`/v1/sessions/${data?.id}`);
  });

  it('creates a session with no body at all (all defaults)', async () => {
    const res = await srv.fetch('/v1/sessions', { method: 'POST' });
    expect(res.status).toBe(201);
  });

  it('ids are unique and unguessable', async () => {
    const ids = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const { data } = await srv.client.POST('/v1/sessions', { body: {} });
      ids.add(data!.id);
    }
    expect(ids.size).toBe(5);
  });

  it('lists, gets and deletes', async () => {
    const { data: a } = await srv.client.POST('/v1/sessions', { body: { family: '1.2', compat: 'strict', logSize: 4096 } });
    const list = await srv.client.GET('/v1/sessions');
    expect(list.data?.sessions.map((s) => s.id)).toContain(a!.id);
    const got = await srv.client.GET('/v1/sessions/{id}', { params: { path: { id: a!.id } } });
    expect(got.data?.compat).toBe('strict');
    expect(got.data?.logFull).toBe(false);
    const del = await srv.client.DELETE('/v1/sessions/{id}', { params: { path: { id: a!.id } } });
    expect(del.response.status).toBe(204);
    const gone = await srv.client.GET('/v1/sessions/{id}', { params: { path: { id: a!.id } } });
    expect(gone.response.status).toBe(404);
    expect(gone.response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(gone.error).toMatchObject({ type: 'urn:tpm-measure:problem:session-not-found', status: 404 });
  });

  it('answers 429 with Retry-After past the session limit', async () => {
    for (let i = 0; i < 5; i++) expect((await srv.client.POST('/v1/sessions', { body: {} })).response.status).toBe(201);
    const { response, error } = await srv.client.POST('/v1/sessions', { body: {} });
    expect(response.status).toBe(429);
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(error).toMatchObject({ type: 'urn:tpm-measure:problem:too-many-sessions' });
  });
});

describe('bad input on session creation is a 4xx problem', () => {
  const cases: Array<[string, RequestInit, number, string]> = [
    ['malformed JSON', { body: '{"family":', headers: { 'content-type': 'application/json' } }, 400, 'invalid-request'],
    ['unknown family', { body: '{"family":"3.0"}', headers: { 'content-type': 'application/json' } }, 400, 'invalid-request'],
    ['unknown field', { body: '{"famly":"1.2"}', headers: { 'content-type': 'application/json' } }, 400, 'invalid-request'],
    ['logSize too small', { body: '{"logSize":10}', headers: { 'content-type': 'application/json' } }, 400, 'invalid-request'],
    ['logSize above MAX_LOG_SIZE', { body: '{"logSize":1073741824}', headers: { 'content-type': 'application/json' } }, 400, 'invalid-option'],
    ['startup as a string', { body: '{"startup":"yes"}', headers: { 'content-type': 'application/json' } }, 400, 'invalid-request'],
    ['banks for TPM 1.2', { body: '{"family":"1.2","banks":["sha256"]}', headers: { 'content-type': 'application/json' } }, 400, 'invalid-option'],
    ['text/plain body', { body: 'family=1.2', headers: { 'content-type': 'text/plain' } }, 415, 'unsupported-media-type'],
  ];
  for (const [name, init, status, kind] of cases) {
    it(name, async () => {
      const before = (await srv.ctx.sessions.list()).length;
      const res = await srv.fetch('/v1/sessions', { method: 'POST', ...init });
      expect(res.status).toBe(status);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      const body = (await res.json()) as { type: string; title: string; status: number; detail: string };
      expect(body.type).toBe(`urn:tpm-measure:problem:${kind}`);
      expect(body.status).toBe(status);
      expect(body.title).toBeTruthy();
      expect(body.detail).toBeTruthy();
      expect((await srv.ctx.sessions.list()).length).toBe(before);
    });
  }

  it('an unknown route is a not-found problem', async () => {
    const res = await srv.fetch('/v1/nothing-here');
    expect(res.status).toBe(404);
    expect(((await res.json()) as { type: string }).type).toBe('urn:tpm-measure:problem:not-found');
  });
});

describe('idle expiry', () => {
  it('expires sessions idle for longer than the TTL', async () => {
    let now = 1_000_000;
    const s2 = await startServer({ sessionTtlMs: 60_000 }, { now: () => now });
    try {
      const { data } = await s2.client.POST('/v1/sessions', { body: {} });
      now += 59_000;
      expect((await s2.client.GET('/v1/sessions/{id}', { params: { path: { id: data!.id } } })).response.status).toBe(200);
      now += 59_000; // touched at +59 s, so alive until +119 s
      expect((await s2.client.GET('/v1/sessions/{id}', { params: { path: { id: data!.id } } })).response.status).toBe(200);
      now += 61_000;
      expect((await s2.client.GET('/v1/sessions/{id}', { params: { path: { id: data!.id } } })).response.status).toBe(404);
      expect(s2.violations).toEqual([]);
    } finally {
      await s2.close();
    }
  });
});
