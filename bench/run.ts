/**
 * `npm run bench` (add `-- --quick` for the CI proof run): the issue-12 table. Every row measures
 * what a user does against the peer they would use instead, in the same run, as the median of
 * bounded, interleaved repetitions; the targets are fixed here, and a missed one is printed as
 * missed (the full run then exits non-zero). Writes BENCHMARKS.md at the repo root (--quick writes
 * .tmp/BENCHMARKS.quick.md and never fails on targets, only on errors).
 *
 *   1–4, 10a  a file uploaded with curl (-T / -F) to /measurements vs sha1sum, sha256sum, the four
 *             *sum tools, openssl dgst (bench/user-upload.ts)
 *   5         POST /v1/launches with kernel + initrd + 2 small parts vs sha1sum + sha256sum (launch.ts)
 *   6a, 6b    TPM_Extend / TPM2_PCR_Extend over /commands, 64 clients on 64 sessions, vs swtpm
 *             (one stream, two processes) and a bare Fastify route (concurrency.ts)
 *   7, 10b    10,000 sessions with 10 events each: creation rate, whole-process RSS (sessions.ts)
 *   8         peak RSS growth during a 1 GiB upload (upload.ts)
 *   9a–9e     today's wins: seed FIFO path, careful-driver stream, TPM-hashing upload, replay
 *
 * The service under test is the built server (`npm run build`, then `node dist/src/server.js`) on
 * 127.0.0.1 with LOG_LEVEL=warn, as in production; the bench builds it first. Only 127.0.0.1 and
 * Unix sockets; every child process and temp file is removed here.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { benchConcurrency } from './concurrency.js';
import { benchEventLogReplay, tpm2EventlogVersion } from './eventlog.js';
import { benchCarefulStream, benchSeedFifo } from './fifo.js';
import { benchLaunch } from './launch.js';
import { profileNotes } from './profile-notes.js';
import { renderMarkdown, type Row } from './lib/report.js';
import { ServiceProcess, SERVICE_LOG_LEVEL, startEnv } from './lib/server.js';
import { MiB, nowMs } from './lib/stats.js';
import { swtpmVersion } from './lib/swtpm.js';
import { benchSessions } from './sessions.js';
import { benchTpmUpload, benchUploadMemory, sha1sumVersion } from './upload.js';
import { benchUserUploads } from './user-upload.js';

const QUICK = process.argv.includes('--quick');
const ROOT = fileURLToPath(new URL('../', import.meta.url));
const OUT = process.env.BENCH_OUT ?? (QUICK ? `${ROOT}.tmp/BENCHMARKS.quick.md` : `${ROOT}BENCHMARKS.md`);
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
for (const tool of ['curl', 'sha1sum', 'openssl']) {
  if (spawnSync(tool, ['--version']).status !== 0 && spawnSync(tool, ['version']).status !== 0) console.error(`\n!!!!! ${tool} is not installed: the upload rows need it !!!!!\n`);
}

const profile = (id: string): string[] => (QUICK ? [] : profileNotes(id));
const rows: Row[] = [];
async function section(name: string, fn: () => Promise<Row | Row[]>, ids: string[] = []): Promise<void> {
  console.log(`[${elapsedS().toFixed(0)} s] ${name} …`);
  let got: Row[];
  try {
    const r = await fn();
    got = Array.isArray(r) ? r : [r];
  } catch (e) {
    got = [errorRow(name, e)];
  }
  got.forEach((r, i) => {
    if (r.id === undefined && ids[i] !== undefined) r.id = ids[i];
    if (QUICK && r.verdict === 'MISSED target') r.verdict = 'not judged (--quick)';
    if (r.id !== undefined && !r.notes.some((n) => n.startsWith('Profile:'))) r.notes.push(...profile(r.id));
  });
  log(got);
  rows.push(...got);
}

// The server as users run it: built, then `node dist/src/server.js`.
console.log(`[0 s] npm run build …`);
const build = spawnSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
if (build.status !== 0) {
  console.error('\n!!!!! npm run build failed: the bench measures the built server !!!!!\n');
  process.exit(1);
}

const S = QUICK
  ? { bigMiB: 16, slopeMiB: [1, 4, 16], reps: 2, budgetMs: 4000, kernelMiB: 2, initrdMiB: 8, repMs: 250, sessions: [200, 1000], memMiB: 128, fifoReps: 2, fifoBudgetMs: 200, careful: 2 * MiB, tpmUpload: 2 * MiB }
  : { bigMiB: 256, slopeMiB: [1, 16, 256], reps: 5, budgetMs: 25_000, kernelMiB: 16, initrdMiB: 128, repMs: 1000, sessions: [1000, 10_000], memMiB: 1024, fifoReps: 5, fifoBudgetMs: 1500, careful: 16 * MiB, tpmUpload: 16 * MiB };

let svc: ServiceProcess | null = null;
try {
  svc = await ServiceProcess.start();
  const service = svc;
  await section('Uploads of a file (rows 1–4, 10a)', () => benchUserUploads(service, { bigMiB: S.bigMiB, slopeMiB: S.slopeMiB, reps: S.reps, budgetMs: S.budgetMs, quick: QUICK, profile }), ['1']);
  await section('Launch prediction (row 5)', () => benchLaunch(service, { kernelMiB: S.kernelMiB, initrdMiB: S.initrdMiB, reps: S.reps, budgetMs: S.budgetMs, quick: QUICK, profile }), ['5']);
  for (const family of ['1.2', '2.0'] as const) {
    await section(`Raw commands, 64 clients, TPM ${family} (row 6)`, () => benchConcurrency(service, family, swtpm, { clients: 64, reps: S.reps, repMs: S.repMs, budgetMs: S.budgetMs, quick: QUICK, profile }), [family === '1.2' ? '6a' : '6b']);
  }
  await section('Upload, TPM hashing (row 9e)', () => benchTpmUpload(service, swtpm, S.tpmUpload), ['9e']);
} catch (e) {
  rows.push({ ...errorRow('service', e), id: '0' });
} finally {
  await svc?.stop();
}
// Fresh service processes, so that earlier rows do not set their memory.
await section('Sessions (rows 7, 10b)', () => benchSessions({ sizes: S.sessions, quick: QUICK, profile }), ['7']);
await section('Upload memory (row 8)', () => benchUploadMemory(S.memMiB * MiB), ['8']);
await section('TIS FIFO, seed driver (row 9a)', () => benchSeedFifo(S.fifoReps, S.fifoBudgetMs), ['9a']);
await section('TIS FIFO, careful driver stream (rows 9b, 9c)', () => benchCarefulStream(swtpm, S.careful), ['9b', '9c']);
await section('Event-log replay (row 9d)', () => benchEventLogReplay(tpm2Eventlog), ['9d']);
rows.sort((a, b) => (a.id ?? '').localeCompare(b.id ?? '', 'en', { numeric: true }));

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
  {
    quick: QUICK,
    server: `\`node dist/src/server.js\` (built by the bench with \`npm run build\`) with the environment \`npm start\` gives it (${Object.entries(startEnv()).map(([k, v]) => `${k}=${v}`).join(', ') || 'nothing more'}), own process, 127.0.0.1, LOG_LEVEL=${SERVICE_LOG_LEVEL}, NODE_ENV=production`,
  },
);
mkdirSync(fileURLToPath(new URL('.', `file://${OUT}`)), { recursive: true });
writeFileSync(OUT, md);
const missed = rows.filter((r) => r.verdict === 'MISSED target' || r.verdict === 'error');
console.log(`\nWrote ${OUT} (${rows.length} rows, ${durationS.toFixed(0)} s).`);
if (missed.length > 0) console.log(`${QUICK ? 'Errors' : 'Missed targets / errors'}: ${missed.map((r) => `${r.id ?? '?'} ${r.section} (${r.verdict})`).join('; ')}`);
if (rows.some((r) => r.verdict === 'error')) process.exitCode = 1;
else if (!QUICK && missed.length > 0) process.exitCode = 2;
