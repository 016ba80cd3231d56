/**
 * Availability under hostile clients: a stalled upload never holds up the session's other requests
 * for longer than the turn timeout, and is aborted with nothing applied.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../support/server.js';
import { openRaw, within } from './support.js';

let srv: TestServer;
const TURN_MS = 1500;
beforeAll(async () => {
  srv = await startServer({ turnTimeoutMs: TURN_MS, idleTimeoutMs: 20_000 });
});
afterAll(async () => srv.close());
afterEach(() => expect(srv.violations.splice(0)).toEqual([]));

async function session(family: '1.2' | '2.0'): Promise<string> {
  const res = await srv.fetch('/v1/sessions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ family }) });
  return ((await res.json()) as { id: string }).id;
}

async function state(id: string): Promise<string> {
  const [pcrs, log, tis] = await Promise.all([
    srv.fetch(`/v1/sessions/${id}/pcrs`).then((r) => r.text()),
    srv.fetch(`/v1/sessions/${id}/event-log`, { headers: { accept: 'application/octet-stream' } }).then(async (r) => Buffer.from(await r.arrayBuffer()).toString('hex')),
    srv.fetch(`/v1/sessions/${id}/tis`).then((r) => r.text()),
  ]);
  return pcrs + log + tis;
}

function stalledUpload(id: string, query: string): ReturnType<typeof openRaw> {
  return openRaw(
    srv.baseUrl,
    `POST /v1/sessions/${id}/measurements?${query} HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: 100\r\n\r\n0123456789`,
  );
}

describe('a stalled upload (Content-Length 100, 10 bytes, then nothing)', () => {
  for (const family of ['1.2', '2.0'] as const) {
    it(`hashing=host (TPM ${family}): never takes the session's turn; other requests answer at once`, async () => {
      const id = await session(family);
      const before = await state(id);
      const { socket } = await stalledUpload(id, 'pcr=17');
      await new Promise((r) => setTimeout(r, 100));
      // Well below the turn timeout: the upload is not holding the session.
      const reads = await within(state(id), TURN_MS / 2);
      expect(reads).not.toBe('timeout');
      expect(reads).toBe(before);
      socket.destroy();
      const del = await within(srv.fetch(`/v1/sessions/${id}`, { method: 'DELETE' }), TURN_MS / 2);
      expect(del === 'timeout' ? 'timeout' : del.status).toBe(204);
    });

    it(`hashing=tpm (TPM ${family}): holds the turn at most SESSION_TURN_TIMEOUT, then 408 and nothing applied`, async () => {
      const id = await session(family);
      const before = await state(id);
      const { socket, reply } = await stalledUpload(id, 'pcr=17&hashing=tpm');
      await new Promise((r) => setTimeout(r, 100));
      // The reads queue behind the upload, and get their answer once the turn timeout aborts it.
      const reads = await within(state(id), TURN_MS * 4);
      expect(reads).not.toBe('timeout');
      expect(reads).toBe(before);
      const r = await within(reply, TURN_MS * 2);
      expect(r).not.toBe('timeout');
      if (r !== 'timeout') {
        expect(r?.status).toBe(408);
        expect(r?.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(JSON.parse(r?.body ?? '{}').type).toBe('urn:tpm-measure:problem:request-timeout');
      }
      socket.destroy();
      // The session works normally afterwards.
      const ok = await srv.fetch(`/v1/sessions/${id}/measurements?pcr=17&hashing=tpm`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: Buffer.from('abc') });
      expect(ok.status).toBe(201);
    });
  }
});
