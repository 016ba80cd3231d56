/**
 * Row 6: raw TPM commands over HTTP as a test farm drives them — 64 clients on 64 sessions, each
 * sending TPM_Extend (TPM 1.2) or TPM2_PCR_Extend (TPM 2.0) to `POST /v1/sessions/{id}/commands`
 * over its own keep-alive connection (bench/lib/loadgen.ts) — against
 *  - one swtpm socket stream (one swtpm process, the same command, one in flight),
 *  - two swtpm processes driven in parallel (swtpm needs one process per TPM),
 *  - a bare Fastify route answering 10 bytes, with the same client and 64 connections.
 * Every response is checked: HTTP 200 and TPM return code 0.
 */
import { fileURLToPath } from 'node:url';
import { MIX_LOCALITY, mix12, mix2 } from './lib/commands.js';
import { httpRequest, runLoad, type Job } from './lib/loadgen.js';
import { judge, type Row, type Verdict } from './lib/report.js';
import { startPeerServer, type ServiceProcess } from './lib/server.js';
import { figure, interleaved, nowMs, pairedRatio } from './lib/stats.js';
import { SwtpmPeer } from './lib/swtpm.js';

const BARE = fileURLToPath(new URL('./lib/bare-fastify.mjs', import.meta.url));

export interface ConcurrencyOptions {
  clients: number;
  reps: number;
  repMs: number;
  budgetMs: number;
  quick: boolean;
  profile: (id: string) => string[];
}

const rcOk = (status: number, body: Buffer): void => {
  if (status !== 200) throw new Error(`HTTP ${status}: ${body.toString().slice(0, 200)}`);
  if (body.length < 10 || body.readUInt32BE(6) !== 0) throw new Error(`TPM return code 0x${body.length >= 10 ? body.readUInt32BE(6).toString(16) : '?'}`);
};

/** Send `cmd` to swtpm back to back for `ms`; commands per second. */
async function swtpmStream(peer: SwtpmPeer, cmd: Uint8Array, ms: number): Promise<number> {
  const t0 = nowMs();
  let n = 0;
  while (n === 0 || nowMs() - t0 < ms) {
    const r = await peer.send(cmd);
    if (r.length < 10 || Buffer.from(r.buffer, r.byteOffset, r.byteLength).readUInt32BE(6) !== 0) throw new Error('swtpm: extend failed');
    n++;
  }
  return (n * 1000) / (nowMs() - t0);
}

export async function benchConcurrency(svc: ServiceProcess, family: '1.2' | '2.0', swtpmName: string | null, o: ConcurrencyOptions): Promise<Row> {
  const cmd = family === '1.2' ? mix12.extend : mix2.pcrExtend;
  const ids: string[] = [];
  for (let i = 0; i < o.clients; i++) ids.push(await svc.createSession({ family }));
  const reqs = ids.map((id) => httpRequest('POST', `/v1/sessions/${id}/commands?locality=${MIX_LOCALITY}`, svc.port, cmd));
  const svcJob = (_i: number, c: number): Job => ({ bytes: reqs[c] as Buffer, check: rcOk });
  const bare = await startPeerServer(BARE);
  const bareReq = httpRequest('POST', '/commands', bare.port, cmd);
  const bareJob = (): Job => ({ bytes: bareReq, check: rcOk });
  const notes: string[] = [];
  const peers: SwtpmPeer[] = [];
  try {
    if (swtpmName) {
      for (let i = 0; i < 2; i++) {
        const p = await SwtpmPeer.start(family === '2.0');
        peers.push(p);
        await p.setLocality(MIX_LOCALITY);
      }
    }
  } catch (e) {
    notes.push(`swtpm could not be started: ${(e as Error).message}`);
  }
  try {
    const huge = Number.MAX_SAFE_INTEGER;
    // Warm-up: JIT on both servers, swtpm's first commands.
    await runLoad(svc.port, o.clients, huge, svcJob, 1500);
    await runLoad(bare.port, o.clients, huge, bareJob, 800);
    for (const p of peers) await swtpmStream(p, cmd, 200);
    const [p1, p2] = peers;
    const [ours, one, two, floor] = await interleaved(o.reps, o.budgetMs, [
      async () => (await runLoad(svc.port, o.clients, huge, svcJob, o.repMs)).rate,
      p1 ? () => swtpmStream(p1, cmd, o.repMs) : null,
      p1 && p2 ? async () => (await Promise.all([swtpmStream(p1, cmd, o.repMs), swtpmStream(p2, cmd, o.repMs)])).reduce((a, b) => a + b, 0) : null,
      async () => (await runLoad(bare.port, o.clients, huge, bareJob, o.repMs)).rate,
    ]);
    const rOne = one?.length ? pairedRatio(ours ?? [], one) : null;
    const rTwo = two?.length ? pairedRatio(ours ?? [], two) : null;
    const rBare = pairedRatio(ours ?? [], floor ?? []);
    const verdicts = [judge(rOne, rOne !== null, { min: 1.5 }), judge(rTwo, rTwo !== null, { min: 1.0 }), judge(rBare, true, { min: 0.6 })];
    let verdict: Verdict = verdicts.find((v) => v !== 'meets target') ?? 'meets target';
    if (o.quick && verdict === 'MISSED target') verdict = 'not judged (--quick)';
    const name = family === '1.2' ? 'TPM_Extend' : 'TPM2_PCR_Extend (sha1+sha256, PW session)';
    const fig = (xs: number[] | undefined, unit: string) => (xs && xs.length > 0 ? figure(xs, unit) : null);
    const twoF = fig(two, 'cmd/s');
    const floorF = fig(floor, 'req/s');
    return {
      id: family === '1.2' ? '6a' : '6b',
      section: `Raw commands, ${o.clients} clients, TPM ${family}`,
      measures: `${name} at locality ${MIX_LOCALITY} over \`POST /v1/sessions/{id}/commands\`, ${o.clients} clients on ${o.clients} sessions (one keep-alive connection and one request in flight each; HTTP 200 and rc 0 checked per response)`,
      ours: figure(ours ?? [], 'cmd/s'),
      peerName: `one ${swtpmName ?? 'swtpm'}${family === '2.0' ? ' --tpm2' : ''} socket stream (same command, one in flight)`,
      peer: fig(one, 'cmd/s'),
      ratio: rOne,
      target: `target: ≥ 1.5× one swtpm stream (${rOne?.toFixed(2) ?? '—'}× — ${verdicts[0]}); ≥ 1.0× two swtpm processes in parallel (${rTwo?.toFixed(2) ?? '—'}× — ${verdicts[1]}); ≥ 0.6× a bare Fastify route (${rBare?.toFixed(2) ?? '—'}× — ${verdicts[2]})`,
      verdict,
      notes: [
        `Two swtpm processes driven in parallel by the bench: ${twoF ? `${twoF.value.toFixed(0)} cmd/s (${twoF.min.toFixed(0)}–${twoF.max.toFixed(0)}, n=${twoF.reps})` : 'unavailable'}. Bare Fastify 5 route (own process, octet-stream body, 10-byte answer, same ${o.clients}-connection client): ${floorF ? `${floorF.value.toFixed(0)} req/s (${floorF.min.toFixed(0)}–${floorF.max.toFixed(0)}, n=${floorF.reps})` : '—'}.`,
        `Same run: the bare Fastify route does ${(pairedRatio(floor ?? [], one ?? []) ?? NaN).toFixed(2)}× one swtpm stream; ours reaches ${((rBare ?? NaN) * 100).toFixed(0)} % of the bare route.`,
        `Each repetition runs ${o.repMs} ms per transport, interleaved. The client (bench/lib/loadgen.ts, raw keep-alive HTTP/1.1 on node:net) runs in the bench process and shares the 2 CPUs with the server under test, as wrk or autocannon would.`,
        ...notes,
        ...o.profile(family === '1.2' ? '6a' : '6b'),
      ],
    };
  } finally {
    await bare.stop();
    for (const p of peers) await p.stop();
    for (const id of ids) await svc.send('DELETE', `/v1/sessions/${id}`).catch(() => undefined);
  }
}
