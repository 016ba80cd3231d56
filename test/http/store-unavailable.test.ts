/**
 * A store that fails is a 503 `store-unavailable` that leaves the session as it was: every kind of
 * state change (raw command, drtm, measurement, mmio batch, launch) whose commit fails changes
 * nothing, and the next request works. With PostgreSQL the outage is real (the schema disappears for
 * a moment); without a server that part skips locally (fails in CI).
 */
import { aroundCommits } from '../support/store-wrap.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../support/server.js';
import { blob } from '../support/data.js';
import { MemorySessionStore, type SessionStore } from '../../src/sessions/store.js';
import { extend12 } from '../../src/drivers/tpm12-commands.js';
import { describeWithPostgres, pgQuery, postgresStore } from '../support/stores.js';

const octet = { 'content-type': 'application/octet-stream' };
const json = { 'content-type': 'application/json' };

/** A memory store whose commits fail while `failing` is set. */
function flaky(): { store: SessionStore; set: (v: boolean) => void } {
  let failing = false;
  const inner = new MemorySessionStore();
  const store = aroundCommits(inner, async (_w, commit) => {
    if (failing) throw new Error('disk full');
    return commit();
  });
  return { store, set: (v) => (failing = v) };
}

async function view(srv: TestServer, id: string): Promise<unknown> {
  const pcrs = await (await srv.fetch(`/v1/sessions/${id}/pcrs`)).json();
  const log = Buffer.from(await (await srv.fetch(`/v1/sessions/${id}/event-log`, { headers: { accept: 'application/octet-stream' } })).arrayBuffer()).toString('hex');
  const tis = await (await srv.fetch(`/v1/sessions/${id}/tis`)).json();
  const s = (await (await srv.fetch(`/v1/sessions/${id}`)).json()) as Record<string, unknown>;
  return { pcrs, log, tis, measurements: s.measurements, extendsOutsideLog: s.extendsOutsideLog };
}

describe('a failed commit is a 503 and changes nothing', () => {
  let srv: TestServer;
  const f = flaky();
  beforeAll(async () => {
    srv = await startServer({}, { store: f.store });
  });
  afterAll(async () => srv.close());

  const changes: [string, (id: string) => Promise<Response>][] = [
    ['raw command', (id) => srv.fetch(`/v1/sessions/${id}/commands`, { method: 'POST', body: extend12(23, Buffer.alloc(20, 1)), headers: octet })],
    ['drtm', (id) => srv.fetch(`/v1/sessions/${id}/drtm`, { method: 'POST', body: blob(100, 1), headers: octet })],
    ['measurement (host)', (id) => srv.fetch(`/v1/sessions/${id}/measurements?pcr=18`, { method: 'POST', body: blob(100, 2), headers: octet })],
    ['measurement (tpm)', (id) => srv.fetch(`/v1/sessions/${id}/measurements?pcr=18&hashing=tpm`, { method: 'POST', body: blob(100, 3), headers: octet })],
    ['mmio batch', (id) => srv.fetch(`/v1/sessions/${id}/mmio`, { method: 'POST', headers: json, body: JSON.stringify({ ops: [{ op: 'write', offset: 0, size: 1, value: 2 }] }) })],
  ];
  for (const [name, change] of changes) {
    it(name, async () => {
      const id = ((await (await srv.fetch('/v1/sessions', { method: 'POST', headers: json, body: '{"family":"1.2"}' })).json()) as { id: string }).id;
      const before = await view(srv, id);
      f.set(true);
      const res = await change(id);
      f.set(false);
      expect(res.status).toBe(503);
      expect(((await res.json()) as { type: string }).type).toBe('urn:tpm-measure:problem:store-unavailable');
      expect(await view(srv, id)).toEqual(before);
      const again = await change(id);
      expect(again.status).toBeLessThan(300);
      expect(await view(srv, id)).not.toEqual(before);
      expect(srv.violations.splice(0)).toEqual([]);
    });
  }
});

describeWithPostgres('PostgreSQL outage', () => {
  const t = postgresStore();
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startServer({ store: t.config });
  });
  afterAll(async () => {
    await srv.close();
    await t.cleanup();
  });

  it('while the tables are gone requests answer 503; afterwards the session is as it was and continues', async () => {
    if (t.config.driver !== 'postgres') throw new Error('unreachable');
    const schema = t.config.schema;
    const id = ((await (await srv.fetch('/v1/sessions', { method: 'POST', headers: json, body: '{"family":"2.0"}' })).json()) as { id: string }).id;
    expect((await srv.fetch(`/v1/sessions/${id}/measurements?pcr=18`, { method: 'POST', body: blob(10, 1), headers: octet })).status).toBe(201);
    const before = await view(srv, id);
    await pgQuery(`ALTER SCHEMA "${schema}" RENAME TO "${schema}_away"`);
    try {
      const res = await srv.fetch(`/v1/sessions/${id}/measurements?pcr=18`, { method: 'POST', body: blob(10, 2), headers: octet });
      expect(res.status).toBe(503);
      expect(((await res.json()) as { type: string }).type).toBe('urn:tpm-measure:problem:store-unavailable');
    } finally {
      await pgQuery(`ALTER SCHEMA "${schema}_away" RENAME TO "${schema}"`);
    }
    expect(await view(srv, id)).toEqual(before);
    expect((await srv.fetch(`/v1/sessions/${id}/measurements?pcr=18`, { method: 'POST', body: blob(10, 2), headers: octet })).status).toBe(201);
    expect(srv.violations.splice(0)).toEqual([]);
  });
});
