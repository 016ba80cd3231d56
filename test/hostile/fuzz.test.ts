/**
 * Fuzzing the HTTP surface: random methods, paths from the contract, query strings, media types and
 * bodies against a real listening server. Whatever arrives, the answer is never a 5xx, every error
 * is problem+json, and a refused request changes nothing in the session it names.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../support/server.js';

let srv: TestServer;
let id = '';
beforeAll(async () => {
  srv = await startServer({ idleTimeoutMs: 5000, requestTimeoutMs: 5000, turnTimeoutMs: 2000 });
  const res = await fetch(srv.baseUrl + '/v1/sessions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"family":"2.0"}' });
  id = ((await res.json()) as { id: string }).id;
});
afterAll(async () => srv.close());

const PATHS = ['/v1/sessions', '/v1/sessions/{id}', '/v1/sessions/{id}/commands', '/v1/sessions/{id}/drtm', '/v1/sessions/{id}/pcrs', '/v1/sessions/{id}/measurements', '/v1/sessions/{id}/event-log', '/v1/sessions/{id}/mmio', '/v1/sessions/{id}/tis', '/v1/sessions/{id}/launch', '/v1/launches', '/v1/event-logs/replay', '/v1/event-logs/verify', '/healthz'];
const NAMES = ['pcr', 'locality', 'eventType', 'eventData', 'hashing', 'format', 'events', 'offset', 'limit', 'output', 'logEvent', 'export', 'bank', 'pcrs', 'x'];
const TYPES = ['application/json', 'application/octet-stream', 'multipart/form-data; boundary=zz', 'multipart/form-data', 'text/plain', 'application/json; charset=latin1', ''];

const query = fc.array(fc.tuple(fc.constantFrom(...NAMES), fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('%ff', '%', '%zz', '0x2', '1e0', '-1', '99999999999', '17', 'tpm', 'true'))), { maxLength: 4 });
const body = fc.oneof(
  fc.constant(undefined),
  fc.json({ maxDepth: 4 }),
  fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
  fc.constantFrom('--zz\r\nContent-Disposition: form-data; name="pcr"\r\n\r\n17\r\n--zz\r\nContent-Disposition: form-data; name="pcr"\r\n\r\n18\r\n--zz--\r\n', '--zz\r\nContent-Disposition: form-data; name="blob"; filename="b"\r\n\r\nabc', '{"ops":[{"op":"write","offset":0,"size":1,"value":2}]}', '{"family":"2.0","logSize":40}', '{"log":"AA==","pcrs":{"sha1":{"0":"00"}}}'),
);

async function state(): Promise<string> {
  const pcrs = await (await fetch(`${srv.baseUrl}/v1/sessions/${id}/pcrs`)).text();
  const log = Buffer.from(await (await fetch(`${srv.baseUrl}/v1/sessions/${id}/event-log`, { headers: { accept: 'application/octet-stream' } })).arrayBuffer()).toString('hex');
  return pcrs + log;
}

describe('HTTP fuzz', () => {
  it('never a 5xx, every error problem+json, refusals change nothing', async () => {
    let cases = 0;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('GET', 'POST', 'DELETE', 'PUT', 'PATCH'), fc.constantFrom(...PATHS), query, fc.constantFrom(...TYPES), body, async (method, path, q, type, b) => {
        if (method === 'DELETE' && path === '/v1/sessions/{id}') return;
        const before = await state();
        const qs = q.map(([k, v]) => `${k}=${/^%/.test(v) ? v : encodeURIComponent(v)}`).join('&');
        const headers: Record<string, string> = type ? { 'content-type': type } : {};
        const init: RequestInit = { method, headers, ...(b !== undefined && method !== 'GET' ? { body: b } : {}) };
        const res = await fetch(`${srv.baseUrl}${path.replace('{id}', id)}${qs ? '?' + qs : ''}`, init);
        const text = await res.text();
        cases++;
        expect(res.status, `${method} ${path}?${qs} ${type}: ${text.slice(0, 200)}`).toBeLessThan(500);
        if (res.status >= 400) {
          expect(res.headers.get('content-type'), text.slice(0, 200)).toMatch(/^application\/problem\+json/);
          expect(await state()).toBe(before);
        }
      }),
      { numRuns: 400 },
    );
    console.log(`HTTP fuzz: ${cases} requests, none answered 5xx`);
  });
});
