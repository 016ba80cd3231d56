/**
 * Refusals that must be refusals: ambiguous or malformed input gets a 4xx problem and changes
 * nothing; errors produced before any route runs are problem+json too.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../support/server.js';
import { openRaw, within } from './support.js';

let srv: TestServer;
beforeAll(async () => {
  srv = await startServer({ requestTimeoutMs: 1500, idleTimeoutMs: 1500, maxJsonMembers: 1000 });
});
afterAll(async () => srv.close());
afterEach(() => expect(srv.violations.splice(0)).toEqual([]));

const PROBLEM = 'urn:tpm-measure:problem:';
const json = { 'content-type': 'application/json' };
const oct = { 'content-type': 'application/octet-stream' };

async function problemOf(res: Response, status: number, kind: string): Promise<Record<string, unknown>> {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const body = (await res.json()) as Record<string, unknown>;
  expect(body.type).toBe(PROBLEM + kind);
  return body;
}

async function session(body: Record<string, unknown> = { family: '1.2' }): Promise<string> {
  const res = await srv.fetch('/v1/sessions', { method: 'POST', headers: json, body: JSON.stringify(body) });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

async function state(id: string): Promise<string> {
  const pcrs = await (await srv.fetch(`/v1/sessions/${id}/pcrs`)).text();
  const log = Buffer.from(await (await srv.fetch(`/v1/sessions/${id}/event-log`, { headers: { accept: 'application/octet-stream' } })).arrayBuffer()).toString('hex');
  return pcrs + log;
}

describe('logSize below what the log header needs', () => {
  it('is a 400 naming the minimum for the bank set (it was a 500)', async () => {
    for (const [banks, min] of [
      [['sha1'], 37 + 4 + 4 * 1],
      [['sha1', 'sha256'], 0],
      [['sha1', 'sha256', 'sha384', 'sha512', 'sm3_256'], 0],
    ] as const) {
      const res = await srv.fetch('/v1/sessions', { method: 'POST', headers: json, body: JSON.stringify({ family: '2.0', banks, logSize: 48 }) });
      const body = await problemOf(res, 400, 'invalid-option');
      const needed = body.minLogSize as number;
      expect(needed).toBeGreaterThan(48);
      if (min > 0) expect(needed).toBeGreaterThanOrEqual(min);
      expect(String(body.detail)).toContain(String(needed));
      // The minimum itself is accepted, one byte less is not.
      const ok = await srv.fetch('/v1/sessions', { method: 'POST', headers: json, body: JSON.stringify({ family: '2.0', banks, logSize: needed }) });
      expect(ok.status).toBe(201);
      const less = await srv.fetch('/v1/sessions', { method: 'POST', headers: json, body: JSON.stringify({ family: '2.0', banks, logSize: needed - 1 }) });
      expect(less.status).toBe(400);
    }
  });
});

describe('ambiguous measurement options', () => {
  it('a multipart upload with two pcr fields is refused', async () => {
    const id = await session();
    const before = await state(id);
    const form = new FormData();
    form.append('pcr', '17');
    form.append('pcr', '18');
    form.append('blob', new Blob([Buffer.from('kernel')]), 'k');
    await problemOf(await srv.fetch(`/v1/sessions/${id}/measurements`, { method: 'POST', body: form }), 400, 'invalid-option');
    expect(await state(id)).toBe(before);
  });

  it('eventData that is not percent-encoded UTF-8 is refused, not logged as U+FFFD or literally', async () => {
    const id = await session();
    const before = await state(id);
    for (const q of ['eventData=%ff%fe', 'eventData=%zz', 'eventData=%', 'eventData=a%e2%82']) {
      await problemOf(await srv.fetch(`/v1/sessions/${id}/measurements?pcr=17&${q}`, { method: 'POST', headers: oct, body: 'x' }), 400, 'invalid-request');
    }
    // The same bytes as base64 are fine.
    const ok = await srv.fetch(`/v1/sessions/${id}/measurements?pcr=17&eventData=base64://4=`, { method: 'POST', headers: oct, body: 'x' });
    expect(ok.status).toBe(201);
    expect(await state(id)).not.toBe(before);
  });

  it('a form field holding U+FFFD (bytes that were not UTF-8) is refused', async () => {
    const id = await session();
    const form = new FormData();
    form.append('eventData', 'bad \uFFFD text');
    form.append('blob', new Blob([Buffer.from('x')]), 'k');
    await problemOf(await srv.fetch(`/v1/sessions/${id}/measurements`, { method: 'POST', body: form }), 400, 'invalid-option');
  });

  it('localities are the digits 0-4 only (blank, 0x2, 1e0, 2.0, +2 are refused)', async () => {
    const id = await session();
    const before = await state(id);
    const extend = Buffer.from('00c10000002200000014000000110000000000000000000000000000000000000000', 'hex');
    for (const loc of ['%20', '', '0x2', '1e0', '2.0', '+2', '02x', '2&locality=2']) {
      await problemOf(await srv.fetch(`/v1/sessions/${id}/commands?locality=${loc}`, { method: 'POST', headers: oct, body: extend }), 400, 'invalid-request');
      const m = await srv.fetch(`/v1/sessions/${id}/measurements?pcr=17&locality=${loc}`, { method: 'POST', headers: oct, body: 'x' });
      expect(m.status, loc).toBe(400);
    }
    expect(await state(id)).toBe(before);
    expect((await srv.fetch(`/v1/sessions/${id}/commands?locality=2`, { method: 'POST', headers: oct, body: extend })).status).toBe(200);
  });
});

describe('verify with nothing to verify', () => {
  it('pcrs {} is a 400, not ok:true', async () => {
    const log = Buffer.from('00', 'hex').toString('base64');
    await problemOf(await srv.fetch('/v1/event-logs/verify', { method: 'POST', headers: json, body: JSON.stringify({ log, pcrs: {} }) }), 400, 'invalid-request');
  });
});

describe('large and deep JSON bodies', () => {
  it('a body with more members than MAX_JSON_MEMBERS is refused before it is parsed', async () => {
    const pcrs = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`k${i}`, { '0': '00' }]));
    await problemOf(await srv.fetch('/v1/event-logs/verify', { method: 'POST', headers: json, body: JSON.stringify({ log: 'AA==', pcrs }) }), 413, 'payload-too-large');
    const unknown = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`k${i}`, i]));
    await problemOf(await srv.fetch('/v1/sessions', { method: 'POST', headers: json, body: JSON.stringify(unknown) }), 413, 'payload-too-large');
  });

  it('session creation takes a few KiB, not MAX_JSON_BYTES', async () => {
    const body = JSON.stringify({ family: '1.2', pad: 'x'.repeat(64 * 1024) });
    await problemOf(await srv.fetch('/v1/sessions', { method: 'POST', headers: json, body }), 413, 'payload-too-large');
  });

  it('nesting deeper than 64 levels is refused; __proto__ keys are refused', async () => {
    await problemOf(await srv.fetch('/v1/sessions', { method: 'POST', headers: json, body: '['.repeat(100) + ']'.repeat(100) }), 413, 'payload-too-large');
    await problemOf(await srv.fetch('/v1/sessions', { method: 'POST', headers: json, body: '{"__proto__":{"x":1}}' }), 400, 'invalid-request');
  });

  it('an expected set with unknown banks or too many PCRs fails the schema', async () => {
    const log = 'AA==';
    await problemOf(await srv.fetch('/v1/event-logs/verify', { method: 'POST', headers: json, body: JSON.stringify({ log, pcrs: { sha7: { '0': '00' } } }) }), 400, 'invalid-request');
    await problemOf(await srv.fetch('/v1/event-logs/verify', { method: 'POST', headers: json, body: JSON.stringify({ log, pcrs: { sha1: { '24': '00' } } }) }), 400, 'invalid-request');
  });
});

describe('errors before any route runs are problem+json', () => {
  async function raw(bytes: string): Promise<{ status: number; type: string; headers: Record<string, string>; body: string }> {
    const { socket, reply } = await openRaw(srv.baseUrl, bytes);
    const r = await within(reply, 5000);
    socket.destroy();
    if (r === 'timeout' || r === undefined) throw new Error('no reply');
    expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
    return { status: r.status, type: String(JSON.parse(r.body).type), headers: r.headers, body: r.body };
  }

  it('431 for a header block too large', async () => {
    const r = await raw(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20000)}\r\n\r\n`);
    expect([r.status, r.type]).toEqual([431, PROBLEM + 'header-too-large']);
  });

  it('400 for a garbled request (also after a good pipelined one)', async () => {
    expect((await raw('\x00\x01 nonsense\r\n\r\n')).status).toBe(400);
    // Pipelined: Node's parser may refuse the whole connection before the first answer is written;
    // whatever 400 comes back is a problem document.
    const { socket } = await openRaw(srv.baseUrl, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nBLAH BLAH BLAH\r\n\r\n');
    let wire = '';
    socket.on('data', (d: Buffer) => (wire += d.toString('latin1')));
    await within(new Promise((r) => socket.on('close', r)), 5000);
    socket.destroy();
    expect(wire).toMatch(/^HTTP\/1\.1 (200|400) /);
    const n400 = wire.split('HTTP/1.1 400 ').length - 1;
    expect(n400).toBe(1);
    expect(wire.slice(wire.indexOf('HTTP/1.1 400 '))).toContain('application/problem+json');
  });

  it('414 for a path segment too long, without echoing the URL', async () => {
    const long = 'a'.repeat(300);
    const r = await raw(`GET /v1/sessions/${long} HTTP/1.1\r\nHost: x\r\n\r\n`);
    expect([r.status, r.type]).toEqual([414, PROBLEM + 'uri-too-long']);
    expect(r.body).not.toContain(long);
  });

  it('408 for headers that never finish and for a body that stalls', async () => {
    const slowHeaders = await raw('POST /v1/sessions HTTP/1.1\r\nHost: x\r\n');
    expect([slowHeaders.status, slowHeaders.type]).toEqual([408, PROBLEM + 'request-timeout']);
    const stalled = await raw('POST /v1/sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 50\r\n\r\n{"fam');
    expect([stalled.status, stalled.type]).toEqual([408, PROBLEM + 'request-timeout']);
  });

  it('405 with Allow for a method the path does not have; 404 for a path that does not exist', async () => {
    const r = await srv.fetch('/v1/sessions', { method: 'PUT' });
    await problemOf(r, 405, 'method-not-allowed');
    expect(r.headers.get('allow')?.split(', ').sort()).toEqual(['GET', 'HEAD', 'POST']);
    const d = await srv.fetch('/v1/sessions/abc/pcrs', { method: 'DELETE' });
    await problemOf(d, 405, 'method-not-allowed');
    expect(d.headers.get('allow')).toBe('GET, HEAD');
    await problemOf(await srv.fetch('/v1/nothing-here'), 404, 'not-found');
  });
});
