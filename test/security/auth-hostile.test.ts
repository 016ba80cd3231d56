/**
 * Hostile Authorization headers (fast-check), sent over raw sockets so that any byte can be tried:
 * the answer is always a 4xx problem (401 for a header that is not exactly `Bearer <valid key>`,
 * 400/431 for what HTTP itself refuses), never a 5xx, never a hang; the server keeps serving.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authenticate } from '../../src/http/security.js';
import { startServer, type TestServer } from '../support/server.js';
import { openRaw, within, type RawReply } from '../hostile/support.js';
import { apiKeysOf, newTestKey } from './support.js';

const A = newTestKey();
const keys = apiKeysOf(A);
let srv: TestServer;
let sessionId: string;

beforeAll(async () => {
  srv = await startServer({ apiKeys: keys });
  const r = await srv.fetch('/v1/sessions', { method: 'POST', headers: A.auth });
  sessionId = ((await r.json()) as { id: string }).id;
});
afterAll(async () => srv.close());

/** GET the session's PCRs with the given raw header lines (latin1 bytes as given). */
async function send(headerLines: string[]): Promise<RawReply | 'timeout' | undefined> {
  const head = `GET /v1/sessions/${sessionId}/pcrs HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n${headerLines.map((l) => l + '\r\n').join('')}\r\n`;
  const { socket, reply } = await openRaw(srv.baseUrl, Buffer.from(head, 'latin1'));
  try {
    return await within(reply, 10_000);
  } finally {
    socket.destroy();
  }
}

/** What a header value means: the valid key (after HTTP's own trimming) or not. */
function isValid(value: string): boolean {
  return /^Bearer +(\S+)$/i.exec(value.trim())?.[1] === A.key;
}

const printable = fc.string({ unit: fc.integer({ min: 0x20, max: 0xff }).map((c) => String.fromCharCode(c)), maxLength: 300 });
const fragment = fc.oneof(fc.constant('Bearer'), fc.constant('bearer'), fc.constant(' '), fc.constant(A.key), fc.constant(A.key.slice(0, 10)), fc.constant(','), fc.constant('='), fc.constant('\t'), fc.constant('Basic'), printable);

function expectRefused(r: RawReply | 'timeout' | undefined, value: string): void {
  expect(r).not.toBe('timeout');
  expect(r).toBeDefined();
  const reply = r as RawReply;
  if (isValid(value)) {
    expect(reply.status).toBe(200);
    return;
  }
  expect(reply.status, `${reply.status} for ${JSON.stringify(value).slice(0, 200)}`).toBeGreaterThanOrEqual(400);
  expect(reply.status).toBeLessThan(500);
  expect(reply.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(reply.body).not.toMatch(/at \S+ \(|node_modules|\/src\//);
}

describe('hostile Authorization headers', () => {
  it('random bytes (latin1, no CR/LF): 401, never 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(printable, async (value) => {
        const r = await send([`Authorization: ${value}`]);
        expectRefused(r, value);
        if (r !== 'timeout' && r !== undefined && !isValid(value) && r.status === 401) expect(r.headers['www-authenticate']).toMatch(/^Bearer\b/);
      }),
      { numRuns: 120 },
    );
  });

  it('pieces of a valid header, repeated and shuffled: 401 unless exactly the key', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fragment, { minLength: 1, maxLength: 12 }), async (parts) => {
        const value = parts.join('');
        expectRefused(await send([`Authorization: ${value}`]), value);
      }),
      { numRuns: 120 },
    );
  });

  it('huge values: 401 or 431, never 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1_000, max: 200_000 }), fc.constantFrom('a', 'Bearer ', A.key, '='), async (n, unit) => {
        const value = `Bearer ${unit.repeat(Math.ceil(n / unit.length)).slice(0, n)}`;
        expectRefused(await send([`Authorization: ${value}`]), value);
      }),
      { numRuns: 20 },
    );
  });

  it('the header repeated: never 5xx; with no valid value, 401', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(printable, fc.constant(`Bearer ${A.key}`)), { minLength: 2, maxLength: 6 }), async (values) => {
        const r = await send(values.map((v) => `Authorization: ${v}`));
        expect(r).not.toBe('timeout');
        const reply = r as RawReply;
        expect(reply.status).toBeLessThan(500);
        if (!values.some(isValid)) expect(reply.status).toBeGreaterThanOrEqual(400);
      }),
      { numRuns: 40 },
    );
  });

  it('bytes that break the header line (NUL, CR, LF): a 4xx, never 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(printable, fc.constantFrom('\0', '\r', '\n', '\r\n\r\n', '\x7f'), printable, async (a, bad, b) => {
        const r = await send([`Authorization: Bearer ${a}${bad}${b}`]);
        expect(r).not.toBe('timeout');
        if (r === undefined || r === 'timeout') return; // the connection was closed: refused without a response
        expect(r.status).toBeLessThan(500);
        expect(r.status).toBeGreaterThanOrEqual(400);
      }),
      { numRuns: 60 },
    );
  });

  it('the server still serves the key afterwards', async () => {
    const r = await srv.fetch(`/v1/sessions/${sessionId}/pcrs`, { headers: A.auth });
    expect(r.status).toBe(200);
  });
});

describe('authenticate()', () => {
  it('finds the key whatever its position among the configured ones, and nothing else', () => {
    const others = [newTestKey(), newTestKey(), newTestKey()];
    const all = apiKeysOf(others[0]!, A, others[1]!, others[2]!);
    expect(authenticate(`Bearer ${A.key}`, all)).toEqual({ owner: all[1]!.id });
    expect(authenticate(`bearer   ${A.key}`, all)).toEqual({ owner: all[1]!.id });
    expect(authenticate(`Bearer ${others[2]!.key}`, all)).toEqual({ owner: all[3]!.id });
    expect(authenticate(undefined, all)).toEqual({ refused: 'missing' });
    expect(authenticate('', all)).toEqual({ refused: 'missing' });
    expect(authenticate(`Bearer ${A.key} x`, all)).toEqual({ refused: 'malformed' });
    expect(authenticate(`Bearer ${A.key}=`, all)).toEqual({ refused: 'unknown' });
    expect(authenticate(`Bearer ${'x'.repeat(10_000)}`, all)).toEqual({ refused: 'malformed' });
  });
});
