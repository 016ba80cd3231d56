import { spawn } from 'node:child_process';
import { Tcg2Log } from './src/eventlog/tcg2.js';
const port = 18000 + Math.floor(Math.random() * 1000);
const child = spawn('npx', ['tsx', 'src/server.ts'], { env: { ...process.env, PORT: String(port), LOG_LEVEL: 'silent' }, stdio: 'inherit' });
const base = `http://127.0.0.1:${port}`;
for (let i = 0; i < 100; i++) { try { await fetch(base + '/healthz'); break; } catch { await new Promise((r) => setTimeout(r, 200)); } }
const log = new Tcg2Log({ banks: ['sha1', 'sha256'], size: 16 * 1024 * 1024 });
let n = 0;
while (n < 65000 && log.append({ pcr: n % 24, type: 0xd, digests: { sha1: new Uint8Array(20).fill(n & 255), sha256: new Uint8Array(32) }, data: new Uint8Array(200) })) n++;
const bytes = log.bytes();
console.log('events', n, 'bytes', bytes.length);
async function measure(label: string, body: string | Uint8Array, path: string, ct: string) {
  let stop = false; let worst = 0; let pings = 0;
  const pinger = (async () => { while (!stop) { const t = performance.now(); await fetch(base + '/healthz'); worst = Math.max(worst, performance.now() - t); pings++; await new Promise((r) => setTimeout(r, 5)); } })();
  const t = performance.now();
  const r = await fetch(base + path, { method: 'POST', headers: { 'content-type': ct }, body });
  const txt = await r.text();
  const dt = performance.now() - t; stop = true; await pinger;
  console.log(label, r.status, 'total ms', dt.toFixed(0), 'worst /healthz ms', worst.toFixed(0), 'pings', pings, 'resp bytes', txt.length);
}
await measure('replay 16MiB', bytes, '/v1/event-logs/replay', 'application/octet-stream');
await measure('replay 16MiB cel limit 10', bytes, '/v1/event-logs/replay?output=cel-json&limit=10&events=true', 'application/octet-stream');
await measure('verify 16MiB', JSON.stringify({ log: Buffer.from(bytes).toString('base64'), pcrs: { sha256: { '0': '00' } } }), '/v1/event-logs/verify', 'application/json');
const many = '{"log":"AA==","pcrs":{' + Array.from({ length: 1_400_000 }, (_, i) => `"k${i}":{}`).join(',') + '}}';
await measure('1.4M keys', many, '/v1/event-logs/verify', 'application/json');
const big = '{' + Array.from({ length: 2_500_000 }, (_, i) => `"k${i}":1`).join(',') + '}';
await measure('2.5M keys session', big, '/v1/sessions', 'application/json');
child.kill('SIGTERM');
