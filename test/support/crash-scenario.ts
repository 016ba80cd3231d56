/**
 * Crash test body, shared by the SQLite and PostgreSQL suites: a child-process server under
 * concurrent measurement / raw command / mmio load is killed with SIGKILL at a random moment, then
 * restarted on the same store, `kills` times. After every restart:
 *  - every acknowledged measurement is in the log exactly once, and nothing in the log was never sent;
 *    the session's measurement counter equals the measurements in its log;
 *  - the log replays (POST /v1/event-logs/replay, src/eventlog) to the session's PCR 17 and 18 in
 *    every bank: a measurement is logged and extended, or neither;
 *  - PCR 23 equals the chain of the acknowledged raw TPM extends (plus the one in flight at the kill, or not);
 *  - the TIS register written by the last acknowledged mmio batch holds its value (or the in-flight one);
 *  - a TPM 1.2 SHA-1 thread acknowledged open before the kill completes, with the digest of all its data.
 */
import { createHash } from 'node:crypto';
import { expect } from 'vitest';
import { startChildServer, type ChildServer } from './child-server.js';
import { blob } from './data.js';
import { extend12, responseCode, sha1CompleteExtend12, sha1Start12, sha1Update12 } from '../../src/drivers/tpm12-commands.js';
import { pcrExtend } from '../../src/drivers/tpm2-commands.js';

const octet = { 'content-type': 'application/octet-stream' };
const json = { 'content-type': 'application/json' };
/** mmio on locality 1: ACCESS at 0x1000, TPM_INT_ENABLE at 0x1008 (TCG PC Client PTP 1.05 §6.5.2.4, §6.5.2.6). */
const ACCESS1 = 0x1000;
const INT_ENABLE1 = 0x1008;
const INT_VALUES = [0x80000001, 0x00000002, 0x80000004, 0x00000000, 0x80000000];

interface LoadSession {
  id: string;
  family: '1.2' | '2.0';
  /** Measurement tags sent, and the ones acknowledged. */
  sent: Set<string>;
  acked: Set<string>;
  /** Acknowledged raw extends of PCR 23, in order (digests), and the one in flight at the kill. */
  extends: Buffer[];
  extendInFlight: Buffer | undefined;
  /** INT_ENABLE value after the last acknowledged mmio batch; the value in flight; observed masks. */
  intEnable: number | undefined;
  intInFlight: number | undefined;
  intSeen: Map<number, number>;
}

interface ThreadSession {
  id: string;
  /** Data of the SHA-1 thread acknowledged open, undefined when not known open. */
  open: Buffer | undefined;
}

export interface CrashFigures {
  kills: number;
  ackedOperations: number;
  measurementsChecked: number;
  extendsChecked: number;
  mmioChecked: number;
  threadsChecked: number;
  /** At the end: measurements in the logs and raw extends in PCR 23 (each acknowledged or found applied). */
  finalMeasurements: number;
  finalExtends: number;
}

async function call(url: string, init?: RequestInit): Promise<Response> {
  return fetch(url, { ...init, signal: AbortSignal.timeout(20_000) });
}

function chain(digests: Buffer[], alg: 'sha1' | 'sha256'): string {
  let pcr = Buffer.alloc(alg === 'sha1' ? 20 : 32);
  for (const d of digests) pcr = createHash(alg).update(Buffer.concat([pcr, d])).digest();
  return pcr.toString('hex');
}

function rnd(n: number): number {
  return Math.floor(Math.random() * n);
}

async function verifyLoad(base: string, s: LoadSession, figures: CrashFigures): Promise<void> {
  const view = (await (await call(`${base}/v1/sessions/${s.id}`)).json()) as { measurements: number };
  const logJson = (await (await call(`${base}/v1/sessions/${s.id}/event-log`, { headers: { accept: 'application/json' } })).json()) as { events: { dataText?: string; pcr: number }[] };
  const tags = logJson.events.map((e) => e.dataText ?? '').filter((t) => /^c\d+w\d+n\d+$/.test(t));
  expect(new Set(tags).size, `${s.id}: a measurement is logged twice`).toBe(tags.length);
  for (const t of s.acked) expect(tags, `${s.id}: acknowledged measurement ${t} lost`).toContain(t);
  for (const t of tags) expect(s.sent.has(t), `${s.id}: logged measurement ${t} was never sent`).toBe(true);
  expect(view.measurements, `${s.id}: measurement counter ≠ measurements in the log`).toBe(tags.length);
  figures.measurementsChecked += tags.length;
  s.acked = new Set(tags);
  s.sent = new Set(tags);

  const pcrs = ((await (await call(`${base}/v1/sessions/${s.id}/pcrs`)).json()) as { banks: Record<string, string[]> }).banks;
  const bin = Buffer.from(await (await call(`${base}/v1/sessions/${s.id}/event-log`, { headers: { accept: 'application/octet-stream' } })).arrayBuffer());
  const replay = (await (await call(`${base}/v1/event-logs/replay`, { method: 'POST', body: bin, headers: octet })).json()) as { banks: Record<string, string[]> };
  for (const [bank, values] of Object.entries(pcrs)) {
    for (const i of [17, 18]) expect(replay.banks[bank]?.[i], `${s.id}: ${bank} PCR ${i} does not replay from the log`).toBe(values[i]);
  }

  const bank = s.family === '1.2' ? 'sha1' : 'sha256';
  const now = pcrs[bank]?.[23];
  const without = chain(s.extends, bank);
  const withIt = s.extendInFlight ? chain([...s.extends, s.extendInFlight], bank) : undefined;
  expect([without, withIt], `${s.id}: PCR 23 is not the chain of the acknowledged extends`).toContain(now);
  if (now === withIt && s.extendInFlight) s.extends.push(s.extendInFlight);
  s.extendInFlight = undefined;
  figures.extendsChecked += s.extends.length;

  const r = await call(`${base}/v1/sessions/${s.id}/mmio`, { method: 'POST', headers: json, body: JSON.stringify({ ops: [{ op: 'read', offset: INT_ENABLE1, size: 4 }] }) });
  const v = ((await r.json()) as { results: { value: number }[] }).results[0]?.value;
  if (s.intEnable !== undefined) {
    const inflight = s.intInFlight === undefined ? undefined : s.intSeen.get(s.intInFlight);
    const ok = v === s.intEnable || (s.intInFlight !== undefined && (inflight === undefined || v === inflight));
    expect(ok, `${s.id}: INT_ENABLE ${String(v)} is neither the acknowledged ${s.intEnable} nor the in-flight value`).toBe(true);
    figures.mmioChecked++;
  }
  s.intEnable = v;
  s.intInFlight = undefined;
}

async function verifyThread(base: string, t: ThreadSession, figures: CrashFigures): Promise<void> {
  if (!t.open) return;
  const fin = blob(20, 99);
  const res = await call(`${base}/v1/sessions/${t.id}/commands`, { method: 'POST', body: sha1CompleteExtend12(23, fin), headers: octet });
  expect(res.status).toBe(200);
  const rsp = Buffer.from(await res.arrayBuffer());
  expect(responseCode(rsp), 'the SHA-1 thread acknowledged open did not survive the restart').toBe(0);
  expect(rsp.subarray(10, 30).toString('hex')).toBe(createHash('sha1').update(Buffer.concat([t.open, fin])).digest('hex'));
  t.open = undefined;
  figures.threadsChecked++;
}

/** Run one session's workers until the server dies; returns the number of acknowledged operations. */
async function load(base: string, cycle: number, s: LoadSession, dead: () => boolean): Promise<number> {
  let acked = 0;
  const measureWorker = async (w: number): Promise<void> => {
    for (let n = 0; !dead(); n++) {
      const tag = `c${cycle}w${w}n${n}`;
      const pcr = w === 0 ? 17 : 18;
      const hashing = w === 0 ? 'host' : 'tpm';
      s.sent.add(tag);
      try {
        const res = await call(`${base}/v1/sessions/${s.id}/measurements?pcr=${pcr}&hashing=${hashing}&eventData=${tag}`, { method: 'POST', body: blob(64 + rnd(2000), cycle * 1000 + n), headers: octet });
        if (res.status !== 201) throw new Error(`measurement answered ${res.status}: ${await res.text()}`);
        s.acked.add(tag);
        acked++;
      } catch (e) {
        if (dead()) return;
        throw e;
      }
    }
  };
  const extendWorker = async (): Promise<void> => {
    for (let n = 0; !dead(); n++) {
      const d = createHash(s.family === '1.2' ? 'sha1' : 'sha256').update(`x${cycle}-${n}`).digest();
      s.extendInFlight = d;
      const cmd = s.family === '1.2' ? extend12(23, d) : pcrExtend(23, [{ bank: 'sha256', digest: d }]);
      try {
        const res = await call(`${base}/v1/sessions/${s.id}/commands?locality=0`, { method: 'POST', body: cmd, headers: octet });
        const rsp = Buffer.from(await res.arrayBuffer());
        if (res.status !== 200 || responseCode(rsp) !== 0) throw new Error(`extend answered ${res.status} rc ${responseCode(rsp)}`);
        s.extends.push(d);
        s.extendInFlight = undefined;
        acked++;
      } catch (e) {
        if (dead()) return;
        throw e;
      }
    }
  };
  const mmioWorker = async (): Promise<void> => {
    for (let n = 0; !dead(); n++) {
      const value = INT_VALUES[(cycle + n) % INT_VALUES.length] ?? 0;
      s.intInFlight = value;
      const ops = [
        { op: 'write', offset: ACCESS1, size: 1, value: 0x02 },
        { op: 'write', offset: INT_ENABLE1, size: 4, value },
        { op: 'read', offset: INT_ENABLE1, size: 4 },
        { op: 'write', offset: ACCESS1, size: 1, value: 0x20 },
      ];
      try {
        const res = await call(`${base}/v1/sessions/${s.id}/mmio`, { method: 'POST', headers: json, body: JSON.stringify({ ops }) });
        if (res.status !== 200) throw new Error(`mmio answered ${res.status}: ${await res.text()}`);
        const read = ((await res.json()) as { results: { value: number }[] }).results[2]?.value ?? -1;
        s.intSeen.set(value, read);
        s.intEnable = read;
        s.intInFlight = undefined;
        acked++;
      } catch (e) {
        if (dead()) return;
        throw e;
      }
    }
  };
  await Promise.all([measureWorker(0), measureWorker(1), extendWorker(), mmioWorker()]);
  return acked;
}

async function openThread(base: string, t: ThreadSession, cycle: number): Promise<number> {
  const data = blob(64 * (1 + (cycle % 3)), 500 + cycle);
  const a = await call(`${base}/v1/sessions/${t.id}/commands`, { method: 'POST', body: sha1Start12(), headers: octet });
  if (responseCode(Buffer.from(await a.arrayBuffer())) !== 0) throw new Error('SHA1Start refused');
  const b = await call(`${base}/v1/sessions/${t.id}/commands`, { method: 'POST', body: sha1Update12(data), headers: octet });
  if (responseCode(Buffer.from(await b.arrayBuffer())) !== 0) throw new Error('SHA1Update refused');
  t.open = data;
  return 2;
}

export async function crashScenario(env: Record<string, string>, kills: number, log: (s: string) => void): Promise<CrashFigures> {
  const figures: CrashFigures = { kills: 0, ackedOperations: 0, measurementsChecked: 0, extendsChecked: 0, mmioChecked: 0, threadsChecked: 0, finalMeasurements: 0, finalExtends: 0 };
  const serverEnv = { ...env, SESSION_TTL_SECONDS: '86400', MAX_LOG_SIZE: String(16 * 1024 * 1024) };
  let srv: ChildServer = await startChildServer(serverEnv);
  const sessions: LoadSession[] = [];
  for (const family of ['1.2', '2.0'] as const) {
    const res = await call(`${srv.url}/v1/sessions`, { method: 'POST', headers: json, body: JSON.stringify({ family, logSize: 8 * 1024 * 1024 }) });
    expect(res.status).toBe(201);
    const id = ((await res.json()) as { id: string }).id;
    expect((await call(`${srv.url}/v1/sessions/${id}/drtm`, { method: 'POST', body: blob(2000, 7), headers: octet })).status).toBe(200);
    sessions.push({ id, family, sent: new Set(), acked: new Set(), extends: [], extendInFlight: undefined, intEnable: undefined, intInFlight: undefined, intSeen: new Map() });
  }
  const tres = await call(`${srv.url}/v1/sessions`, { method: 'POST', headers: json, body: JSON.stringify({ family: '1.2' }) });
  const thread: ThreadSession = { id: ((await tres.json()) as { id: string }).id, open: undefined };
  try {
    for (let cycle = 0; cycle < kills; cycle++) {
      let killed = false;
      const victim = srv;
      // The thread is opened (and acknowledged) first, so that every kill lands while it is open.
      const threadOps = await openThread(victim.url, thread, cycle);
      const delay = 100 + rnd(700);
      const killer = new Promise<void>((resolve) => {
        setTimeout(() => {
          killed = true;
          void victim.kill('SIGKILL').then(resolve);
        }, delay);
      });
      const dead = (): boolean => killed;
      const counts = [threadOps, ...(await Promise.all(sessions.map((s) => load(victim.url, cycle, s, dead))))];
      await killer;
      figures.kills++;
      figures.ackedOperations += counts.reduce((a, b) => a + b, 0);
      srv = await startChildServer(serverEnv);
      await verifyThread(srv.url, thread, figures);
      for (const s of sessions) await verifyLoad(srv.url, s, figures);
      log(`kill ${cycle + 1}/${kills} after ${delay} ms: ok (${counts.reduce((a, b) => a + b, 0)} operations acknowledged this cycle)`);
    }
  } finally {
    await srv.kill('SIGKILL');
  }
  figures.finalMeasurements = sessions.reduce((n, s) => n + s.acked.size, 0);
  figures.finalExtends = sessions.reduce((n, s) => n + s.extends.length, 0);
  return figures;
}
