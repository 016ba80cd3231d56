/**
 * GET /v1/sessions/{id}/snapshot, POST /v1/sessions {"from": snapshot} and POST /v1/sessions/{id}/fork
 * over HTTP on the default store (SQLite in a temporary DATA_DIR): a restored or forked session
 * continues exactly like the original — same PCRs, same log bytes, an open TPM 1.2 SHA-1 thread
 * still open — and a snapshot of another version, damaged or altered is a 422 that creates nothing.
 */
import { createHash } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../support/server.js';
import { blob } from '../support/data.js';
import { sqliteStore, type TestStore } from '../support/stores.js';
import { canonicalJson } from '../../src/sessions/snapshot-doc.js';
import { sha1CompleteExtend12, sha1Start12, sha1Update12, responseCode } from '../../src/drivers/tpm12-commands.js';

let srv: TestServer;
let t: TestStore;
beforeAll(async () => {
  t = sqliteStore();
  srv = await startServer({ store: t.config });
});
afterAll(async () => {
  await srv.close();
  await t.cleanup();
});
afterEach(() => expect(srv.violations.splice(0)).toEqual([]));

type Json = Record<string, unknown>;

const octet = { 'content-type': 'application/octet-stream' };
async function create(body: Json): Promise<{ status: number; body: Json }> {
  const res = await srv.fetch('/v1/sessions', { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  return { status: res.status, body: (await res.json()) as Json };
}
async function measure(id: string, pcr: number, data: Buffer, hashing = 'host'): Promise<void> {
  const res = await srv.fetch(`/v1/sessions/${id}/measurements?pcr=${pcr}&hashing=${hashing}`, { method: 'POST', body: data, headers: octet });
  expect(res.status).toBe(201);
}
async function command(id: string, cmd: Uint8Array): Promise<Buffer> {
  const res = await srv.fetch(`/v1/sessions/${id}/commands`, { method: 'POST', body: cmd, headers: octet });
  expect(res.status).toBe(200);
  return Buffer.from(await res.arrayBuffer());
}
async function state(id: string): Promise<{ pcrs: unknown; log: Buffer; session: Json }> {
  const pcrs = await (await srv.fetch(`/v1/sessions/${id}/pcrs`)).json();
  const log = Buffer.from(await (await srv.fetch(`/v1/sessions/${id}/event-log`, { headers: { accept: 'application/octet-stream' } })).arrayBuffer());
  const session = (await (await srv.fetch(`/v1/sessions/${id}`)).json()) as Json;
  return { pcrs, log, session };
}
async function snapshot(id: string): Promise<Json> {
  const res = await srv.fetch(`/v1/sessions/${id}/snapshot`);
  expect(res.status).toBe(200);
  return (await res.json()) as Json;
}
const redigest = (doc: Json): Json => ({ ...doc, digest: 'sha256:' + createHash('sha256').update(canonicalJson(doc.session)).digest('hex') });
const sessionCount = async (): Promise<number> => ((await (await srv.fetch('/v1/sessions')).json()) as { sessions: unknown[] }).sessions.length;

describe('snapshot → restore continues the TPM exactly', () => {
  for (const family of ['1.2', '2.0'] as const) {
    it(`TPM ${family}: same PCRs, log bytes and counters; the same next measurement gives the same result`, async () => {
      const { body } = await create({ family });
      const id = body.id as string;
      await srv.fetch(`/v1/sessions/${id}/drtm`, { method: 'POST', body: blob(3000, 1), headers: octet });
      await measure(id, 18, blob(500, 2), 'tpm');
      await measure(id, 17, blob(5000, 3));
      const snap = await snapshot(id);
      expect(snap.format).toBe('tpm-measure/session-snapshot');
      expect(snap.version).toBe(1);
      const restored = await create({ from: snap });
      expect(restored.status).toBe(201);
      const rid = restored.body.id as string;
      expect(rid).not.toBe(id);
      const [a, b] = [await state(id), await state(rid)];
      expect(b.pcrs).toEqual(a.pcrs);
      expect(b.log.equals(a.log)).toBe(true);
      expect(b.session.measurements).toBe(a.session.measurements);
      await measure(id, 17, blob(777, 4), 'tpm');
      await measure(rid, 17, blob(777, 4), 'tpm');
      const [a2, b2] = [await state(id), await state(rid)];
      expect(b2.pcrs).toEqual(a2.pcrs);
      expect(b2.log.equals(a2.log)).toBe(true);
      expect(b2.pcrs).not.toEqual(b.pcrs);
    });
  }

  it('TPM 1.2: a SHA-1 thread open when the snapshot was taken is still open in the restored session', async () => {
    const { body } = await create({ family: '1.2' });
    const id = body.id as string;
    expect(responseCode(await command(id, sha1Start12()))).toBe(0);
    expect(responseCode(await command(id, sha1Update12(blob(128, 5))))).toBe(0);
    const rid = (await create({ from: await snapshot(id) })).body.id as string;
    const fin = sha1CompleteExtend12(23, blob(20, 6));
    const ra = await command(id, fin);
    const rb = await command(rid, fin);
    expect(responseCode(ra)).toBe(0);
    expect(rb.equals(ra)).toBe(true);
    // The digest is SHA-1 of all the data: the thread really continued.
    expect(ra.subarray(10, 30).equals(createHash('sha1').update(Buffer.concat([blob(128, 5), blob(20, 6)])).digest())).toBe(true);
  });
});

describe('fork', () => {
  it('a fork starts equal and then goes its own way; the source is untouched', async () => {
    const { body } = await create({ family: '2.0' });
    const id = body.id as string;
    await measure(id, 18, blob(100, 7));
    const res = await srv.fetch(`/v1/sessions/${id}/fork`, { method: 'POST' });
    expect(res.status).toBe(201);
    const fork = (await res.json()) as Json;
    expect(res.headers.get('location')).toBe(`/v1/sessions/${fork.id as string}`);
    const before = await state(id);
    expect((await state(fork.id as string)).pcrs).toEqual(before.pcrs);
    await measure(fork.id as string, 18, blob(100, 8));
    expect((await state(id)).pcrs).toEqual(before.pcrs);
    expect((await state(fork.id as string)).pcrs).not.toEqual(before.pcrs);
  });

  it('fork and snapshot of an unknown session: 404', async () => {
    expect((await srv.fetch('/v1/sessions/nope/fork', { method: 'POST' })).status).toBe(404);
    expect((await srv.fetch('/v1/sessions/nope/snapshot')).status).toBe(404);
  });
});

describe('a snapshot of another version, damaged or altered is a 422 and creates nothing', () => {
  let good: Json;
  beforeAll(async () => {
    const { body } = await create({ family: '1.2' });
    await measure(body.id as string, 18, blob(100, 9));
    good = await snapshot(body.id as string);
  });
  const session = (doc: Json): Json => doc.session as Json;
  const cases: [string, (d: Json) => unknown][] = [
    ['another version', (d) => redigest({ ...d, version: 2 })],
    ['another format', (d) => redigest({ ...d, format: 'swtpm-state' })],
    ['no digest', (d) => ({ ...d, digest: undefined })],
    ['a measurement counter changed, digest kept', (d) => ({ ...d, session: { ...session(d), measurements: 99 } })],
    ['a log event changed, digest kept', (d) => {
      const log = session(d).log as Json;
      const events = (log.events as Json[]).map((e) => ({ ...e, digest: '00'.repeat(20) }));
      return { ...d, session: { ...session(d), log: { ...log, events } } };
    }],
    ['TPM state replaced by nonsense, re-digested', (d) => redigest({ ...d, session: { ...session(d), engine: { version: 1, family: '1.2' } } })],
    ['TPM 2.0 engine in a TPM 1.2 session, re-digested', (d) => redigest({ ...d, session: { ...session(d), engine: { nonsense: true } } })],
    ['TIS registers malformed, re-digested', (d) => redigest({ ...d, session: { ...session(d), tis: { locality: 'x' } } })],
    ['logSize above MAX_LOG_SIZE, re-digested', (d) => redigest({ ...d, session: { ...session(d), options: { ...(session(d).options as Json), logSize: 2 ** 40 } } })],
    ['log events that do not fit the log, re-digested', (d) => {
      const log = session(d).log as Json;
      return redigest({ ...d, session: { ...session(d), log: { ...log, events: Array.from({ length: 2000 }, () => (log.events as Json[])[0]) } } });
    }],
    ['log of the other family, re-digested', (d) => redigest({ ...d, session: { ...session(d), log: { kind: 'tcg2', size: 32768, banks: [], events: [] } } })],
    ['a negative counter, re-digested', (d) => redigest({ ...d, session: { ...session(d), extendsOutsideLog: -1 } })],
  ];
  for (const [name, alter] of cases) {
    it(name, async () => {
      const before = await sessionCount();
      const res = await create({ from: alter(structuredClone(good)) as Json });
      expect(res.status).toBe(422);
      expect(res.body.type).toBe('urn:tpm-measure:problem:snapshot-invalid');
      expect(await sessionCount()).toBe(before);
    });
  }

  it('`from` that is not an object at all is a malformed request: 400', async () => {
    const res = await create({ from: 'snapshot' });
    expect(res.status).toBe(400);
  });

  it('the untouched snapshot restores (the cases above fail for their alteration only)', async () => {
    expect((await create({ from: structuredClone(good) })).status).toBe(201);
  });
});
