/**
 * Rows 7 and 10 (sessions): a test farm's many TPMs. A fresh service process (MAX_SESSIONS raised
 * for the bench) gets N sessions created over HTTP (`POST /v1/sessions`, half TPM 1.2, half
 * TPM 2.0) by 32 keep-alive clients, then 10 events each (`POST /measurements?hashing=host` with a
 * 64-byte body: an extend and a log entry per event), all sessions alive at the end; then the RSS
 * of the whole service process is read from /proc. Creation rate and RSS are the row's figures.
 */
import { httpRequest, runLoad, type Job } from './lib/loadgen.js';
import type { Row, Verdict } from './lib/report.js';
import { ServiceProcess } from './lib/server.js';
import { MiB } from './lib/stats.js';

export interface SessionsPoint {
  n: number;
  createRate: number;
  eventRate: number;
  rss: number;
  baseline: number;
  hwm: number;
  /** RSS once a second after the load. */
  settled: number[];
}

const CLIENTS = 32;
const EVENTS = 10;
const WARM = 2000;
/** Seconds the RSS is followed after the load (sampled once a second). */
const SETTLE_S = Number(process.env.BENCH_SETTLE_S ?? 5);

export async function sessionsRun(n: number, nodeArgs: string[] = []): Promise<SessionsPoint> {
  const warmN = Math.min(WARM, n);
  const svc = await ServiceProcess.start({ MAX_SESSIONS: String(n + warmN + 1000) }, nodeArgs);
  try {
    const port = svc.port;
    const body12 = Buffer.from(JSON.stringify({ family: '1.2' }));
    const body20 = Buffer.from(JSON.stringify({ family: '2.0' }));
    const create = [httpRequest('POST', '/v1/sessions', port, body12, 'application/json'), httpRequest('POST', '/v1/sessions', port, body20, 'application/json')];
    const ids: string[] = [];
    const createJob = (i: number): Job => ({
      bytes: create[i & 1] as Buffer,
      check: (status, b) => {
        if (status !== 201) throw new Error(`POST /v1/sessions: HTTP ${status} ${b.toString().slice(0, 200)}`);
        ids.push((JSON.parse(b.toString()) as { id: string }).id);
      },
    });
    // Warm-up (JIT): up to WARM sessions with events, deleted again, before the baseline.
    await runLoad(port, CLIENTS, warmN, createJob);
    const blob = Buffer.alloc(64, 0xa5);
    const evReq = (id: string): Buffer => httpRequest('POST', `/v1/sessions/${id}/measurements?hashing=host&pcr=18&locality=2`, port, blob);
    const evCheck = (status: number, b: Buffer): void => {
      if (status !== 201) throw new Error(`POST /measurements: HTTP ${status} ${b.toString().slice(0, 200)}`);
    };
    const warm = ids.splice(0);
    await runLoad(port, CLIENTS, warm.length * EVENTS, (i) => ({ bytes: evReq(warm[Math.floor(i / EVENTS)] as string), check: evCheck }));
    await runLoad(port, CLIENTS, warm.length, (i) => ({
      bytes: httpRequest('DELETE', `/v1/sessions/${warm[i]}`, port, null),
      check: (s) => {
        if (s !== 204) throw new Error(`DELETE: HTTP ${s}`);
      },
    }));
    await new Promise((r) => setTimeout(r, 300));
    const baseline = svc.memory().rss;

    const c = await runLoad(port, CLIENTS, n, createJob);
    if (ids.length !== n) throw new Error(`created ${ids.length} sessions, wanted ${n}`);
    // Events: session-major order spread over the clients (client k works on different sessions).
    const evs = ids.map(evReq);
    const e = await runLoad(port, CLIENTS, n * EVENTS, (i) => ({ bytes: evs[i % n] as Buffer, check: evCheck }));
    await new Promise((r) => setTimeout(r, 300));
    const m = svc.memory(); // before the listing below allocates its answer
    // And once the process has been idle for a while (V8's memory reducer runs GCs when allocation stops).
    const settled: number[] = [];
    for (let i = 0; i < SETTLE_S; i++) {
      await new Promise((r) => setTimeout(r, 1000));
      settled.push(svc.memory().rss);
    }
    if (process.env.BENCH_SESSIONS_METRICS) {
      const met = (await svc.send('GET', '/metrics')).body.toString();
      console.log(met.split('\n').filter((l) => /^tpm_measure_(nodejs_heap_size|nodejs_external|process_resident|nodejs_heap_space_size_total)/.test(l)).join('\n'));
    }
    const list = await svc.send('GET', '/v1/sessions');
    const alive = (JSON.parse(list.body.toString()) as { sessions?: unknown[] } | unknown[]);
    const count = Array.isArray(alive) ? alive.length : (alive.sessions?.length ?? -1);
    if (count !== n) throw new Error(`GET /v1/sessions lists ${count} sessions, wanted ${n} alive`);
    return { n, createRate: c.rate, eventRate: e.rate, rss: m.rss, baseline, hwm: m.hwm, settled };
  } finally {
    await svc.stop();
  }
}

export interface SessionRowsOptions {
  sizes: number[];
  quick: boolean;
  profile: (id: string) => string[];
}

export async function benchSessions(o: SessionRowsOptions): Promise<Row[]> {
  const points: SessionsPoint[] = [];
  for (const n of o.sizes) points.push(await sessionsRun(n));
  const big = points[points.length - 1] as SessionsPoint;
  const rateOk = big.createRate >= 5000;
  const rssOk = big.rss <= 300 * MiB;
  const q = (ok: boolean): Verdict => (ok ? 'meets target' : o.quick ? 'not judged (--quick)' : 'MISSED target');
  const perSession = (p: SessionsPoint): number => (p.rss - p.baseline) / p.n / 1024;
  const rows: Row[] = [
    {
      id: '7',
      section: `${big.n.toLocaleString('en-US')} sessions`,
      measures: `create ${big.n.toLocaleString('en-US')} sessions over HTTP (half TPM 1.2, half TPM 2.0; ${CLIENTS} keep-alive clients), then ${EVENTS} events each (\`POST /measurements?hashing=host\`, 64-byte blob: extend + log entry), all alive; RSS of the whole service process (/proc VmRSS)`,
      ours: { value: big.createRate, unit: 'sessions/s', reps: 1, min: big.createRate, max: big.createRate },
      peerName: `whole-process RSS with all ${big.n.toLocaleString('en-US')} alive`,
      peer: { value: big.rss / MiB, unit: 'MiB', reps: 1, min: big.rss / MiB, max: big.rss / MiB },
      ratio: null,
      target: `target: ≥ 5,000 sessions/s (${big.createRate.toFixed(0)} — ${q(rateOk)}); RSS ≤ 300 MiB with all alive (${(big.rss / MiB).toFixed(0)} MiB — ${q(rssOk)})`,
      verdict: rateOk && rssOk ? 'meets target' : q(false),
      notes: [
        `Events: ${big.eventRate.toFixed(0)} events/s (${(big.n * EVENTS).toLocaleString('en-US')} measurement requests). RSS before creating (after a ${Math.min(WARM, big.n).toLocaleString('en-US')}-session warm-up with events, deleted): ${(big.baseline / MiB).toFixed(0)} MiB; growth ${(perSession(big)).toFixed(1)} KiB per session with its 10 events; VmHWM ${(big.hwm / MiB).toFixed(0)} MiB; RSS over the ${big.settled.length} s after the load (once a second): ${big.settled.map((x) => (x / MiB).toFixed(0)).join(', ')} MiB (the row judges the figure read right after the load).`,
        ...o.profile('7'),
      ],
    },
  ];
  if (points.length > 1) {
    const small = points[0] as SessionsPoint;
    const drop = 1 - big.createRate / small.createRate;
    const evDrop = 1 - big.eventRate / small.eventRate;
    const ok = drop <= 0.2 && evDrop <= 0.2;
    rows.push({
      id: '10b',
      section: 'Cost growth, sessions',
      measures: `row 7 at ${points.map((p) => p.n.toLocaleString('en-US')).join(' and ')} sessions (each a fresh service process): ${points.map((p) => `${p.n}: ${p.createRate.toFixed(0)} sessions/s, ${p.eventRate.toFixed(0)} events/s, ${(perSession(p)).toFixed(1)} KiB/session`).join('; ')}`,
      ours: { value: big.createRate, unit: 'sessions/s', reps: 1, min: big.createRate, max: big.createRate },
      peerName: `row 7 at ${small.n.toLocaleString('en-US')} sessions`,
      peer: { value: small.createRate, unit: 'sessions/s', reps: 1, min: small.createRate, max: small.createRate },
      ratio: big.createRate / small.createRate,
      target: `target: no size where throughput drops by > 20 % (creation ${(drop * 100).toFixed(0)} %, events ${(evDrop * 100).toFixed(0)} %)`,
      verdict: ok ? 'meets target' : o.quick ? 'not judged (--quick)' : 'MISSED target',
      notes: [
        `Slope: memory ${(((big.rss - big.baseline) - (small.rss - small.baseline)) / (big.n - small.n) / 1024).toFixed(1)} KiB per additional session; creation time ${((1000 / big.createRate) * 1000).toFixed(0)} µs/session at ${big.n} vs ${((1000 / small.createRate) * 1000).toFixed(0)} µs at ${small.n}.`,
        ...o.profile('10b'),
      ],
    });
  }
  return rows;
}
