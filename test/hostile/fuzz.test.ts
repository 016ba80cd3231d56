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
  it('never a 5xx, every error problem+json, refusals change nothing; memory stays bounded', async () => {
    const rss0 = process.memoryUsage.rss();
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
    const grown = process.memoryUsage.rss() - rss0;
    console.log(`HTTP fuzz: ${cases} requests, none answered 5xx; RSS growth ${(grown / 2 ** 20).toFixed(1)} MiB`);
    expect(grown).toBeLessThan(256 * 1024 * 1024);
  });

  it('raw TPM commands of any shape: a TPM answer (HTTP 200) or a 4xx problem, never a 5xx, the server stays usable', async () => {
    let cases = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 64 }),
          // Well-framed headers with random tags, sizes and codes (the engine's parsers, not the framing).
          fc.tuple(fc.constantFrom(0x8001, 0x8002, 0x00c1, 0x00c2, 0x1234), fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 0, max: 0x2ff }), fc.uint8Array({ maxLength: 200 })).map(([tag, size, cc, rest]) => {
            const b = Buffer.alloc(10 + rest.length);
            b.writeUInt16BE(tag, 0);
            b.writeUInt32BE(size, 2);
            b.writeUInt32BE(cc | 0x100, 6);
            Buffer.from(rest).copy(b, 10);
            return new Uint8Array(b);
          }),
        ),
        fc.integer({ min: 0, max: 4 }),
        async (cmd, locality) => {
          const res = await fetch(`${srv.baseUrl}/v1/sessions/${id}/commands?locality=${locality}`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: Buffer.from(cmd) });
          await res.arrayBuffer();
          cases++;
          expect(res.status === 200 || (res.status >= 400 && res.status < 500), String(res.status)).toBe(true);
        },
      ),
      { numRuns: 400 },
    );
    expect((await fetch(`${srv.baseUrl}/v1/sessions/${id}/pcrs`)).status).toBe(200);
    console.log(`raw command fuzz: ${cases} commands`);
  });
});
