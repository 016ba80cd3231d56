/**
 * `npm run probe:hostile`: the hostile-input reproductions, run as written against a real started
 * server (child process, loopback only, bounded), printing what each one gets and how long it takes.
 * Figures, not assertions: the regression tests in test/hostile assert the behaviour.
 */
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tpm2Commands } from '../src/drivers/index.js';
import { Tcg2Log } from '../src/eventlog/tcg2.js';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const port = 30000 + Math.floor(Math.random() * 9000);
const base = `http://127.0.0.1:${port}`;
const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], { cwd: ROOT, env: { ...process.env, PORT: String(port), LOG_LEVEL: 'warn' }, stdio: ['ignore', 'ignore', 'inherit'] });
const rows: string[] = [];
const say = (s: string): void => {
  rows.push(s);
  console.log(s);
};

async function up(): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(base + '/healthz')).ok) return;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('server did not start');
}

const json = { 'content-type': 'application/json' };
const oct = { 'content-type': 'application/octet-stream' };
async function session(body: object): Promise<string> {
  return ((await (await fetch(base + '/v1/sessions', { method: 'POST', headers: json, body: JSON.stringify(body) })).json()) as { id: string }).id;
}
async function timed<T>(f: () => Promise<T>): Promise<[T, number]> {
  const t = performance.now();
  const r = await f();
  return [r, performance.now() - t];
}
/** Worst /healthz latency while `f` runs (the server's event loop, seen from outside). */
async function loopWhile<T>(f: () => Promise<T>): Promise<[T, number]> {
  let stop = false;
  let worst = 0;
  const pinger = (async () => {
    while (!stop) {
      const [, dt] = await timed(() => fetch(base + '/healthz').then((r) => r.text()));
      worst = Math.max(worst, dt);
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  const r = await f();
  stop = true;
  await pinger;
  return [r, worst];
}
function raw(bytes: string, waitMs = 5000): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => s.write(bytes));
    let out = '';
    s.on('data', (d: Buffer) => (out += d.toString('latin1')));
    const done = (): void => resolve(out.split('\r\n')[0] + ' ' + (/content-type: ([^\r]+)/i.exec(out)?.[1] ?? ''));
    s.on('close', done);
    setTimeout(() => {
      s.destroy();
      done();
    }, waitMs);
  });
}
const rssOf = async (): Promise<number> => {
  const { readFile } = await import('node:fs/promises');
  const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
};
const MiB = (n: number): string => `${(n / 2 ** 20).toFixed(0)} MiB`;

await up();
try {
  // 1. A stalled upload.
  for (const hashing of ['host', 'tpm']) {
    const id = await session({ family: '1.2' });
    const s = connect(port, '127.0.0.1', () => s.write(`POST /v1/sessions/${id}/measurements?pcr=17&hashing=${hashing} HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: 100\r\n\r\n0123456789`));
    await new Promise((r) => setTimeout(r, 200));
    const [, ms] = await timed(() => Promise.all([`/pcrs`, `/tis`, `/event-log`].map((p) => fetch(`${base}/v1/sessions/${id}${p}`).then((r) => r.text()))));
    s.destroy();
    say(`1  stalled upload (hashing=${hashing}): /pcrs, /tis, /event-log on the same session answered in ${ms.toFixed(0)} ms`);
  }
  // 2. 24 MiB of SequenceUpdate, then a 100-byte measurement.
  for (const mib of [24, 59]) {
    const id = await session({ family: '2.0' });
    const fresh = await session({ family: '2.0' });
    const start = Buffer.from(await (await fetch(`${base}/v1/sessions/${id}/commands`, { method: 'POST', headers: oct, body: Buffer.from(tpm2Commands.hashSequenceStartEvent()) })).arrayBuffer());
    const handle = start.readUInt32BE(10);
    const chunk = new Uint8Array(1024).fill(0x5a);
    const rss0 = await rssOf();
    for (let i = 0; i < mib * 1024; i++) await fetch(`${base}/v1/sessions/${id}/commands`, { method: 'POST', headers: oct, body: Buffer.from(tpm2Commands.sequenceUpdate(handle, chunk)) }).then((r) => r.arrayBuffer());
    const measure = (sid: string): Promise<[Response, number]> => timed(() => fetch(`${base}/v1/sessions/${sid}/measurements?pcr=17`, { method: 'POST', headers: oct, body: Buffer.alloc(100) }));
    const after: number[] = [];
    const base0: number[] = [];
    for (let i = 0; i < 9; i++) {
      after.push((await measure(id))[1]);
      base0.push((await measure(fresh))[1]);
    }
    const med = (a: number[]): number => a.sort((x, y) => x - y)[Math.floor(a.length / 2)] ?? 0;
    say(`2  after ${mib} MiB of SequenceUpdate: 100-byte measurement ${med(after).toFixed(1)} ms (fresh session ${med(base0).toFixed(1)} ms), RSS +${MiB((await rssOf()) - rss0)}`);
  }
  // 3. Huge JSON bodies.
  const many = '{"log":"AA==","pcrs":{' + Array.from({ length: 1_400_000 }, (_, i) => `"k${i}":{}`).join(',') + '}}';
  const [r3, w3] = await loopWhile(() => fetch(base + '/v1/event-logs/verify', { method: 'POST', headers: json, body: many }));
  say(`3  verify with 1.4 M bank keys (${MiB(many.length)}): ${r3.status}, worst /healthz ${w3.toFixed(0)} ms`);
  const big = '{' + Array.from({ length: 2_500_000 }, (_, i) => `"k${i}":1`).join(',') + '}';
  const [r3b, w3b] = await loopWhile(() => fetch(base + '/v1/sessions', { method: 'POST', headers: json, body: big }));
  say(`3  2.5 M-key object to POST /v1/sessions (${MiB(big.length)}): ${r3b.status}, worst /healthz ${w3b.toFixed(0)} ms`);
  const log = new Tcg2Log({ banks: ['sha1', 'sha256'], size: 16 * 1024 * 1024 });
  for (let n = 0; n < 65000; n++) if (!log.append({ pcr: n % 16, type: 0xd, digests: { sha1: new Uint8Array(20), sha256: new Uint8Array(32) }, data: new Uint8Array(180) })) break;
  const bytes = Buffer.from(log.bytes());
  const [r3c, w3c] = await loopWhile(() => fetch(base + '/v1/event-logs/replay', { method: 'POST', headers: oct, body: bytes }));
  say(`3  replay of a ${MiB(bytes.length)} log: ${r3c.status}, worst /healthz ${w3c.toFixed(0)} ms`);
  const body = JSON.stringify({ log: bytes.toString('base64'), pcrs: { sha256: { '0': '00' } } });
  const [r3d, w3d] = await loopWhile(() => fetch(base + '/v1/event-logs/verify', { method: 'POST', headers: json, body }));
  say(`3  verify of the same log as JSON (${MiB(body.length)}): ${r3d.status}, worst /healthz ${w3d.toFixed(0)} ms`);
  // 4. Memory.
  const rss4 = await rssOf();
  for (let i = 0; i < 40; i++) await session({ family: '1.2', logSize: 16 * 1024 * 1024 });
  say(`4  40 sessions with 16 MiB logs: RSS +${MiB((await rssOf()) - rss4)}`);
  const cel = await (await fetch(base + '/v1/event-logs/replay?output=cel-json&limit=10', { method: 'POST', headers: oct, body: bytes })).text();
  say(`4  replay?output=cel-json&limit=10 of the ${MiB(bytes.length)} log: response ${cel.length} bytes`);
  // 5, 6. Refusals.
  const st = async (url: string, init: RequestInit): Promise<string> => {
    const r = await fetch(base + url, init);
    return `${r.status} ${r.headers.get('content-type')?.split(';')[0] ?? ''}`;
  };
  say(`5  logSize 48, TPM 2.0 sha1+sha256: ${await st('/v1/sessions', { method: 'POST', headers: json, body: '{"family":"2.0","logSize":48}' })}`);
  const id6 = await session({ family: '1.2' });
  const form = new FormData();
  form.append('pcr', '17');
  form.append('pcr', '18');
  form.append('blob', new Blob([Buffer.from('x')]), 'b');
  say(`6  two pcr form fields: ${await st(`/v1/sessions/${id6}/measurements`, { method: 'POST', body: form })}`);
  say(`6  verify pcrs {}: ${await st('/v1/event-logs/verify', { method: 'POST', headers: json, body: '{"log":"AA==","pcrs":{}}' })}`);
  for (const q of ['eventData=%ff%fe', 'eventData=%zz', 'eventData=%', 'locality=%20', 'locality=0x2', 'locality=1e0', 'locality=2.0']) {
    say(`6  measurement ?${q}: ${await st(`/v1/sessions/${id6}/measurements?pcr=17&${q}`, { method: 'POST', headers: oct, body: 'x' })}`);
  }
  // 7. Errors before any route.
  say(`7  header block too large: ${await raw(`GET /healthz HTTP/1.1\r\nHost: x\r\nX: ${'a'.repeat(20000)}\r\n\r\n`)}`);
  say(`7  path segment too long: ${await raw(`GET /v1/sessions/${'a'.repeat(300)} HTTP/1.1\r\nHost: x\r\n\r\n`)}`);
  say(`7  garbled pipelined request: ${await raw('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nBLAH BLAH\r\n\r\n')}`);
  say(`7  PUT /v1/sessions: ${await st('/v1/sessions', { method: 'PUT' })}`);
  say(`7  headers that never finish (REQUEST_TIMEOUT_SECONDS default 3600 → shown with the 60 s idle timeout): skipped in the probe, asserted in test/hostile/refusals.test.ts`);
} finally {
  child.kill('SIGTERM');
}
