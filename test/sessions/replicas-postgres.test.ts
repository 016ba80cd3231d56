/**
 * Two replicas (child processes on different ports) sharing one PostgreSQL schema.
 *  - 64 clients on the same 8 sessions through both replicas: every measurement is acknowledged,
 *    logged exactly once, and the PCR value each response reports equals a serial replay (computed
 *    here from the data sent) of the acknowledged measurements in commit order (their log index);
 *    final PCRs, read through either replica, equal that replay, and the logs replay to them.
 *  - A TPM 1.2 SHA-1 thread held by a socket client on replica A is never cut by raw TPM commands
 *    and TPM-hashed measurements sent to the same session through replica B.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startChildServer, type ChildServer } from '../support/child-server.js';
import { blob } from '../support/data.js';
import { describeWithPostgres, postgresStore } from '../support/stores.js';
import { be32, RawClient, tpm12 } from '../support/raw-socket.js';
import { extend12, responseCode } from '../../src/drivers/tpm12-commands.js';

const store = postgresStore();
const octet = { 'content-type': 'application/octet-stream' };
const json = { 'content-type': 'application/json' };
const CLIENTS = 64;
const SESSIONS = 8;
const OPS_PER_CLIENT = 6;

type Bank = 'sha1' | 'sha256';
const ext = (bank: Bank, pcr: string, digest: Buffer): string => createHash(bank).update(Buffer.concat([Buffer.from(pcr, 'hex'), digest])).digest('hex');

describeWithPostgres('two replicas sharing PostgreSQL', () => {
  let a: ChildServer;
  let b: ChildServer;
  beforeAll(async () => {
    a = await startChildServer({ ...store.env, SOCKET_PORT_RANGE: '31000-31999' });
    b = await startChildServer({ ...store.env, SOCKET_PORT_RANGE: '32000-32999' });
  });
  afterAll(async () => {
    await a?.kill();
    await b?.kill();
    await store.cleanup();
  });

  it(`${CLIENTS} clients on ${SESSIONS} sessions through both replicas: PCRs are a serial replay of the acknowledged measurements in commit order`, async () => {
    const replicas = [a.url, b.url];
    const sessions: { id: string; family: '1.2' | '2.0'; banks: Bank[]; start: Record<Bank, string[]> }[] = [];
    for (let i = 0; i < SESSIONS; i++) {
      const family = i % 2 ? '2.0' : '1.2';
      const base = replicas[i % 2]!;
      const res = await fetch(`${base}/v1/sessions`, { method: 'POST', headers: json, body: JSON.stringify({ family, logSize: 1024 * 1024 }) });
      expect(res.status).toBe(201);
      const id = ((await res.json()) as { id: string }).id;
      expect((await fetch(`${replicas[(i + 1) % 2]!}/v1/sessions/${id}/drtm`, { method: 'POST', body: blob(1000, i), headers: octet })).status).toBe(200);
      const start = ((await (await fetch(`${base}/v1/sessions/${id}/pcrs`)).json()) as { banks: Record<Bank, string[]> }).banks;
      sessions.push({ id, family, banks: family === '1.2' ? ['sha1'] : ['sha1', 'sha256'], start });
    }

    interface Acked { session: number; pcr: number; data: Buffer; eventIndex: number; pcrValue: Record<string, string>; replica: number }
    const acked: Acked[] = [];
    const clients = Array.from({ length: CLIENTS }, async (_, c) => {
      const si = c % SESSIONS;
      const s = sessions[si]!;
      for (let n = 0; n < OPS_PER_CLIENT; n++) {
        const replica = (c + n) % 2;
        const pcr = (c + n) % 3 === 0 ? 18 : 17;
        const hashing = (c * 7 + n) % 4 === 0 ? 'tpm' : 'host';
        const data = blob(50 + ((c * 31 + n * 17) % 1500), c * 100 + n + 1);
        const res = await fetch(`${replicas[replica]!}/v1/sessions/${s.id}/measurements?pcr=${pcr}&hashing=${hashing}&eventData=c${c}n${n}`, { method: 'POST', body: data, headers: octet });
        expect(res.status, await res.clone().text()).toBe(201);
        const r = (await res.json()) as { eventIndex: number; pcrValue: Record<string, string>; logged: boolean; extended: boolean };
        expect(r.logged && r.extended).toBe(true);
        acked.push({ session: si, pcr, data, eventIndex: r.eventIndex, pcrValue: r.pcrValue, replica });
      }
    });
    await Promise.all(clients);
    expect(acked).toHaveLength(CLIENTS * OPS_PER_CLIENT);
    expect(new Set(acked.map((x) => x.replica)).size).toBe(2);

    for (const [si, s] of sessions.entries()) {
      const mine = acked.filter((x) => x.session === si).sort((x, y) => x.eventIndex - y.eventIndex);
      // Commit order = log order: indexes are distinct and contiguous after the launch's records.
      const first = mine[0]!.eventIndex;
      mine.forEach((x, k) => expect(x.eventIndex).toBe(first + k));
      const cur: Record<Bank, Record<number, string>> = { sha1: { 17: s.start.sha1[17]!, 18: s.start.sha1[18]! }, sha256: { 17: s.start.sha256?.[17] ?? '', 18: s.start.sha256?.[18] ?? '' } };
      for (const x of mine) {
        for (const bank of s.banks) {
          cur[bank][x.pcr] = ext(bank, cur[bank][x.pcr]!, createHash(bank).update(x.data).digest());
          expect(x.pcrValue[bank], `session ${si} event ${x.eventIndex}: the PCR the response reported is not the serial replay`).toBe(cur[bank][x.pcr]);
        }
      }
      for (const base of replicas) {
        const pcrs = ((await (await fetch(`${base}/v1/sessions/${s.id}/pcrs`)).json()) as { banks: Record<Bank, string[]> }).banks;
        for (const bank of s.banks) for (const p of [17, 18]) expect(pcrs[bank][p]).toBe(cur[bank][p]);
        const log = Buffer.from(await (await fetch(`${base}/v1/sessions/${s.id}/event-log`, { headers: { accept: 'application/octet-stream' } })).arrayBuffer());
        const replay = (await (await fetch(`${base}/v1/event-logs/replay`, { method: 'POST', body: log, headers: octet })).json()) as { banks: Record<Bank, string[]>; eventCount: number };
        for (const bank of s.banks) for (const p of [17, 18]) expect(replay.banks[bank]?.[p]).toBe(cur[bank][p]);
        const view = (await (await fetch(`${base}/v1/sessions/${s.id}`)).json()) as { measurements: number };
        expect(view.measurements).toBe(mine.length);
      }
    }
    console.log(`replicas: ${acked.length} measurements by ${CLIENTS} clients on ${SESSIONS} sessions, ${acked.filter((x) => x.replica === 0).length} through A and ${acked.filter((x) => x.replica === 1).length} through B`);
  }, 180_000);

  it('a SHA-1 thread held by a socket client on replica A is not cut by commands and TPM-hashed measurements through replica B', async () => {
    const res = await fetch(`${a.url}/v1/sessions`, { method: 'POST', headers: json, body: JSON.stringify({ family: '1.2' }) });
    const id = ((await res.json()) as { id: string }).id;
    expect((await fetch(`${b.url}/v1/sessions/${id}/drtm`, { method: 'POST', body: blob(500, 3), headers: octet })).status).toBe(200);
    const sock = (await (await fetch(`${a.url}/v1/sessions/${id}/socket`, { method: 'POST' })).json()) as { dataPort: number };
    const c = await RawClient.connect(sock.dataPort);
    const data = blob(64 * 30, 4);
    const tail = blob(13, 5);
    // Through B, while the thread runs on A: raw TPM_Extend of PCR 23 (one client, in order) and
    // TPM-hashed measurements (each runs its own SHA-1 thread inside its transaction).
    const extendDigests = Array.from({ length: 10 }, (_, i) => createHash('sha1').update(`e${i}`).digest());
    const start = await c.command(tpm12(0xa0));
    expect(start.readUInt32BE(6)).toBe(0);
    const fromB = (async () => {
      const out: number[] = [];
      for (const d of extendDigests) {
        const r = await fetch(`${b.url}/v1/sessions/${id}/commands`, { method: 'POST', body: extend12(23, d), headers: octet });
        out.push(responseCode(Buffer.from(await r.arrayBuffer())));
      }
      return out;
    })();
    const measB = [0, 1, 2, 3].map((i) => fetch(`${b.url}/v1/sessions/${id}/measurements?pcr=18&hashing=tpm&eventData=b${i}`, { method: 'POST', body: blob(700 + i, 40 + i), headers: octet }));
    for (let off = 0; off < data.length; off += 64) {
      const r = await c.command(tpm12(0xa1, Buffer.concat([be32(64), data.subarray(off, off + 64)])));
      expect(r.readUInt32BE(6), `SHA1Update at ${off}`).toBe(0);
      await new Promise((r2) => setTimeout(r2, 5));
    }
    const done = await c.command(tpm12(0xa3, Buffer.concat([be32(16), be32(tail.length), tail])));
    expect(done.readUInt32BE(6), 'SHA1CompleteExtend: the thread was cut by another replica').toBe(0);
    expect(done.subarray(10, 30).equals(createHash('sha1').update(data).update(tail).digest())).toBe(true);
    c.close();
    expect(await fromB).toEqual(extendDigests.map(() => 0));
    for (const m of await Promise.all(measB)) expect(m.status).toBe(201);
    // PCR 23 is the chain of B's extends in order; PCR 16 holds the thread; both replicas agree.
    let p23 = Buffer.alloc(20);
    for (const d of extendDigests) p23 = createHash('sha1').update(Buffer.concat([p23, d])).digest();
    const p16 = createHash('sha1').update(Buffer.alloc(20)).update(createHash('sha1').update(data).update(tail).digest()).digest('hex');
    for (const base of [a.url, b.url]) {
      const banks = ((await (await fetch(`${base}/v1/sessions/${id}/pcrs`)).json()) as { banks: { sha1: string[] } }).banks;
      expect(banks.sha1[23]).toBe(p23.toString('hex'));
      expect(banks.sha1[16]).toBe(p16);
    }
  }, 60_000);
});
