/**
 * `npm run bench`: every row is a ratio against a peer measured in the same run (the machine is
 * noisy), as the median of bounded, interleaved repetitions. Writes BENCHMARKS.md at the repo root.
 *
 *   1–2  TPM 1.2 / 2.0 mixed command stream: in-process and HTTP /commands vs swtpm's socket
 *   3    TIS FIFO: benchTisFifo() (seed driver vs direct), careful-driver stream vs direct / swtpm
 *   4    Uploads over HTTP: host hashing vs sha1sum, TPM hashing through the FIFO vs swtpm
 *   5    Peak RSS growth during a 1 GiB upload (also proves it works: 201 + digest)
 *   6    Event-log replay vs tpm2_eventlog
 *
 * Only 127.0.0.1 and Unix sockets; swtpm instances, the service process and their temp
 * directories are started and removed here. Missing peers are reported loudly, never fatal.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { benchEventLogReplay, tpm2EventlogVersion } from './eventlog.js';
import { benchCarefulStream, benchSeedFifo } from './fifo.js';
import { renderMarkdown, type Row } from './lib/report.js';
import { ServiceProcess } from './lib/server.js';
import { nowMs } from './lib/stats.js';
import { swtpmVersion } from './lib/swtpm.js';
import { benchTpmMix } from './tpm-mix.js';
import { benchHostUpload, benchTpmUpload, benchUploadMemory, sha1sumVersion } from './upload.js';

const OUT = process.env.BENCH_OUT ?? fileURLToPath(new URL('../BENCHMARKS.md', import.meta.url));
const t0 = nowMs();
const loadAtStart = loadAvg();
const source = sourceState();
const elapsedS = (): number => (nowMs() - t0) / 1000;

function cpuModel(): string {
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m?.[1]) return m[1].trim();
  } catch {
    /* not Linux */
  }
  return cpus()[0]?.model ?? 'unknown';
}

function loadAvg(): string {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ')[0] ?? '?';
  } catch {
    return '?';
  }
}

/** HEAD and whether the measured source (src/) had uncommitted changes: the bench runs the working tree. */
function sourceState(): string {
  const head = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' });
  if (head.status !== 0) return 'unknown (not a git checkout)';
  const dirty = spawnSync('git', ['status', '--porcelain', '--', 'src'], { encoding: 'utf8' });
  const n = dirty.status === 0 ? dirty.stdout.split('\n').filter((l) => l.trim() !== '').length : 0;
  return `git ${head.stdout.trim()}${n > 0 ? ` + uncommitted changes in ${n} file(s) under src/ (the bench runs the working tree)` : ' (clean src/)'}`;
}

function errorRow(section: string, e: unknown): Row {
  const msg = e instanceof Error ? e.message : String(e);
  console.error(`\n!!!!! ${section} FAILED: ${msg} !!!!!\n`);
  return { section, measures: 'did not complete', ours: null, peerName: '—', peer: null, ratio: null, target: '—', verdict: 'error', notes: [`Error: ${msg}`] };
}

function log(rows: Row[]): void {
  for (const r of rows) {
    const ratio = r.ratio === null ? '—' : `${r.ratio.toFixed(3)}×`;
    console.log(`  ${r.section}: ours ${r.ours ? `${r.ours.value.toFixed(2)} ${r.ours.unit}` : '—'} | peer ${r.peer ? `${r.peer.value.toFixed(2)} ${r.peer.unit}` : '—'} | ${ratio} | ${r.verdict}`);
  }
}

const swtpm = swtpmVersion();
const tpm2Eventlog = tpm2EventlogVersion();
const sha1sum = sha1sumVersion();
if (!swtpm) console.error('\n!!!!! swtpm is not installed: TPM rows will say "peer unavailable" (apt-get install swtpm swtpm-tools) !!!!!\n');
if (!tpm2Eventlog) console.error('\n!!!!! tpm2_eventlog is not installed: the replay row will say "peer unavailable" (apt-get install tpm2-tools) !!!!!\n');

const rows: Row[] = [];
async function section(name: string, fn: () => Promise<Row | Row[]>): Promise<void> {
  console.log(`[${elapsedS().toFixed(0)} s] ${name} …`);
  let got: Row[];
  try {
    const r = await fn();
    got = Array.isArray(r) ? r : [r];
  } catch (e) {
    got = [errorRow(name, e)];
  }
  log(got);
  rows.push(...got);
}

let svc: ServiceProcess | null = null;
try {
  try {
    svc = await ServiceProcess.start();
  } catch (e) {
    console.error(`\n!!!!! the service could not be started: ${(e as Error).message}; HTTP rows are skipped !!!!!\n`);
  }
  const service = svc;
  await section('TPM 1.2 command stream', () => benchTpmMix('1.2', service, swtpm));
  await section('TPM 2.0 command stream', () => benchTpmMix('2.0', service, swtpm));
  await section('TIS FIFO, seed driver', () => benchSeedFifo());
  await section('TIS FIFO, careful driver stream', () => benchCarefulStream(swtpm));
  if (service) {
    await section('Upload, host hashing', () => benchHostUpload(service));
    await section('Upload, TPM hashing', () => benchTpmUpload(service, swtpm));
  } else {
    rows.push(errorRow('Upload, host hashing', new Error('service not started')), errorRow('Upload, TPM hashing', new Error('service not started')));
  }
} finally {
  await svc?.stop();
}
// A fresh service process, so that earlier rows do not set its memory high-water mark.
await section('Upload memory (1 GiB)', () => benchUploadMemory());
await section('Event-log replay', () => benchEventLogReplay(tpm2Eventlog));

const durationS = elapsedS();
const md = renderMarkdown(
  {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    node: process.version,
    cpu: cpuModel(),
    cores: cpus().length,
    swtpm,
    tpm2Eventlog,
    sha1sum,
    durationS,
    source,
    load: `${loadAtStart} / ${loadAvg()} on ${cpus().length} CPUs`,
  },
  rows,
  [],
);
writeFileSync(OUT, md);
console.log(`\nWrote ${OUT} (${rows.length} rows, ${durationS.toFixed(0)} s).`);
if (rows.some((r) => r.verdict === 'error')) process.exitCode = 1;
