/**
 * Memory: logs allocate as events arrive (a 16 MiB logSize costs what its events cost), and a
 * resident-memory budget refuses new sessions and log growth with 503 + Retry-After, nothing applied.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../support/server.js';
import { setMemoryBudget } from '../../src/sessions/memory.js';
import { TxtContainerLog } from '../../src/eventlog/txt-container.js';

let srv: TestServer;
beforeAll(async () => {
  srv = await startServer({ memoryBudgetBytes: Infinity });
});
afterAll(async () => srv.close());
afterEach(() => expect(srv.violations.splice(0)).toEqual([]));
afterEach(() => setMemoryBudget(Infinity, () => process.memoryUsage.rss()));

const json = { 'content-type': 'application/json' };

describe('lazy logs', () => {
  it('a TXT container of 16 MiB holds only what was written', () => {
    const log = new TxtContainerLog({ size: 16 * 1024 * 1024 });
    const internal = (): number => (log as unknown as { buf: Uint8Array }).buf.length;
    expect(internal()).toBeLessThanOrEqual(4096);
    for (let i = 0; i < 10; i++) log.append({ pcr: 17, type: 0x502, digest: new Uint8Array(20), data: new Uint8Array(100) });
    expect(internal()).toBeLessThanOrEqual(4096);
    // The serialized container is still the whole logSize, as the seed's memory holds it.
    expect(log.bytes().length).toBe(16 * 1024 * 1024);
  });

  it('forty sessions with 16 MiB logs do not take 640 MiB', async () => {
    const before = process.memoryUsage.rss();
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) {
      const res = await srv.fetch('/v1/sessions', { method: 'POST', headers: json, body: JSON.stringify({ family: i % 2 ? '2.0' : '1.2', logSize: 16 * 1024 * 1024 }) });
      expect(res.status).toBe(201);
      ids.push(((await res.json()) as { id: string }).id);
    }
    expect(process.memoryUsage.rss() - before).toBeLessThan(200 * 1024 * 1024);
    for (const id of ids) await srv.fetch(`/v1/sessions/${id}`, { method: 'DELETE' });
  });
});

describe('memory budget', () => {
  it('refuses a new session with 503 and Retry-After at the budget', async () => {
    setMemoryBudget(1024, () => 4096);
    const res = await srv.fetch('/v1/sessions', { method: 'POST', headers: json, body: '{}' });
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await res.json()) as { type: string }).type).toBe('urn:tpm-measure:problem:memory-exhausted');
  });

  it('refuses log growth inside a measurement: 503, nothing extended, nothing logged', async () => {
    const res = await srv.fetch('/v1/sessions', { method: 'POST', headers: json, body: JSON.stringify({ family: '1.2', logSize: 1024 * 1024 }) });
    const { id } = (await res.json()) as { id: string };
    const state = async (): Promise<string> =>
      (await (await srv.fetch(`/v1/sessions/${id}/pcrs`)).text()) +
      Buffer.from(await (await srv.fetch(`/v1/sessions/${id}/event-log`, { headers: { accept: 'application/octet-stream' } })).arrayBuffer()).toString('hex');
    const before = await state();
    // Within the first 4 KiB no growth is needed; an event of 8 KiB needs it.
    setMemoryBudget(1024, () => 4096);
    const big = Buffer.alloc(8192, 1).toString('base64');
    const m = await srv.fetch(`/v1/sessions/${id}/measurements?pcr=17&eventData=base64:${encodeURIComponent(big)}`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: 'x' });
    expect(m.status).toBe(503);
    expect(await state()).toBe(before);
    setMemoryBudget(Infinity);
    const ok = await srv.fetch(`/v1/sessions/${id}/measurements?pcr=17&eventData=base64:${encodeURIComponent(big)}`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: 'x' });
    expect(ok.status).toBe(201);
  });
});
