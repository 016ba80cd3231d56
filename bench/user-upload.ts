/**
 * Rows 1–4 and 10 (sizes): what a user does with a kernel or initrd that sits in a file — upload it
 * with `curl -T FILE` (or `curl -F blob=@FILE`) to `POST /v1/sessions/{id}/measurements?hashing=host`
 * and wait for the 201 — against the tool they would run instead on the same file, page cache warm:
 * `sha1sum FILE`, `sha256sum FILE`, the four *sum tools one after another, and `openssl dgst`
 * (the hashing limit of this CPU). Every run of ours checks HTTP 201 and that dataDigests equal the
 * peer's digests; every peer run checks its digest too. Runs are interleaved (ours, peer, … per
 * repetition) and the ratio is the median of per-repetition ratios.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MIX_LOCALITY, MIX_PCR } from './lib/commands.js';
import { judge, type Row, type Verdict } from './lib/report.js';
import { startPeerServer, type ServiceProcess } from './lib/server.js';
import { fileURLToPath } from 'node:url';
import { figure, interleaved, MiB, nowMs, pairedRatio } from './lib/stats.js';
import { generatedChunks } from './lib/stream.js';

export interface RunOut {
  ms: number;
  stdout: string;
  code: number;
}

/** Spawn a command, drain its output, time it from spawn to exit. */
export function timedRun(cmd: string, args: string[]): Promise<RunOut> {
  return new Promise((resolve, reject) => {
    const t0 = nowMs();
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => {
      const ms = nowMs() - t0;
      if (code !== 0 && cmd !== 'curl') return reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err.slice(0, 300)}`));
      resolve({ ms, stdout: out, code: code ?? -1 });
    });
  });
}

export function toolVersion(cmd: string, args = ['--version']): string | null {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return r.status === 0 ? (r.stdout.split('\n')[0] ?? cmd).trim() : null;
}

/** A temp directory with the generated stream written to files of the given sizes. */
export class BlobFiles {
  readonly dir = mkdtempSync(join(tmpdir(), 'tpm-measure-bench-'));
  file(name: string, size: number): string {
    const path = join(this.dir, name);
    const fd = openSync(path, 'w');
    try {
      for (const c of generatedChunks(size)) writeSync(fd, c);
    } finally {
      closeSync(fd);
    }
    return path;
  }
  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** `<tool> FILE…` → hex digests in file order. */
async function sum(tool: string, files: string[]): Promise<{ ms: number; digests: string[] }> {
  const r = await timedRun(tool, files);
  return { ms: r.ms, digests: r.stdout.trim().split('\n').map((l) => l.split(/\s/)[0] ?? '') };
}

async function opensslDgst(alg: string, file: string): Promise<{ ms: number; digest: string }> {
  const r = await timedRun('openssl', ['dgst', `-${alg}`, '-r', file]);
  return { ms: r.ms, digest: r.stdout.trim().split(/\s/)[0] ?? '' };
}

interface Measurement {
  size: number;
  dataDigests: Record<string, string>;
}

/** curl's arguments for what a user types to upload a file: `curl -T FILE` as an octet-stream POST. */
const curlPut = (file: string, url: string): string[] => ['-X', 'POST', '-H', 'Content-Type: application/octet-stream', '-T', file, url];

/** `curl -T FILE` (octet-stream) or `curl -F blob=@FILE` (multipart) to the measurement route. */
export async function curlMeasure(svc: ServiceProcess, id: string, file: string, multipart: boolean): Promise<{ ms: number; m: Measurement }> {
  const url = `http://127.0.0.1:${svc.port}/v1/sessions/${id}/measurements?hashing=host&pcr=${MIX_PCR}&locality=${MIX_LOCALITY}`;
  const args = multipart
    ? ['-sS', '-o', '-', '-w', '\n%{http_code}', '-F', `blob=@${file};type=application/octet-stream`, url]
    : ['-sS', '-o', '-', '-w', '\n%{http_code}', ...curlPut(file, url)];
  const r = await timedRun('curl', args);
  const nl = r.stdout.lastIndexOf('\n');
  const status = Number(r.stdout.slice(nl + 1));
  if (r.code !== 0 || status !== 201) throw new Error(`curl ${multipart ? '-F' : '-T'}: exit ${r.code}, HTTP ${status}: ${r.stdout.slice(0, 300)}`);
  return { ms: r.ms, m: JSON.parse(r.stdout.slice(0, nl)) as Measurement };
}

const BARE_HASH = fileURLToPath(new URL('./lib/bare-hash.mjs', import.meta.url));

/** `curl -T FILE` to the bare node:http hashing server (bench/lib/bare-hash.mjs): the same client invocation as ours. */
async function curlBare(port: number, file: string): Promise<{ ms: number; sha1: string }> {
  const r = await timedRun('curl', ['-sS', '-o', '-', ...curlPut(file, `http://127.0.0.1:${port}/`)]);
  if (r.code !== 0) throw new Error(`curl to the bare hashing server: exit ${r.code}`);
  return { ms: r.ms, sha1: (JSON.parse(r.stdout) as { sha1: string }).sha1 };
}

const BANK_TOOL: Record<string, string> = { sha1: 'sha1sum', sha256: 'sha256sum', sha384: 'sha384sum', sha512: 'sha512sum' };

function checkDigests(m: Measurement, size: number, want: Record<string, string>): void {
  if (m.size !== size) throw new Error(`measurement size ${m.size} != ${size}`);
  for (const [bank, hex] of Object.entries(want)) {
    if (m.dataDigests[bank] !== hex) throw new Error(`dataDigests.${bank} ${m.dataDigests[bank]} != ${hex} (the peer's)`);
  }
}

export interface UploadRowsOptions {
  bigMiB: number;
  /** Row 10: the sizes of row 1 measured for the slope. */
  slopeMiB: number[];
  reps: number;
  budgetMs: number;
  quick: boolean;
  /** Profile notes per row id, from BENCHMARKS profiling runs (bench/profiles.ts). */
  profile: (id: string) => string[];
}

const mibps = (mib: number, ms: number): number => (mib * 1000) / ms;

function verdictOf(quick: boolean, ratio: number | null, available: boolean, want: { min?: number; max?: number }): Verdict {
  const v = judge(ratio, available, want);
  return quick && v === 'MISSED target' ? 'not judged (--quick)' : v;
}

export async function benchUserUploads(svc: ServiceProcess, o: UploadRowsOptions): Promise<Row[]> {
  const files = new BlobFiles();
  const rows: Row[] = [];
  try {
    const mib = o.bigMiB;
    const size = mib * MiB;
    const file = files.file(`blob-${mib}M.bin`, size);
    // Warm the page cache and learn the expected digests from the peers themselves.
    const want: Record<string, string> = {};
    for (const [bank, tool] of Object.entries(BANK_TOOL)) want[bank] = (await sum(tool, [file])).digests[0] ?? '';
    const ossl = await opensslDgst('sha1', file);
    if (ossl.digest !== want.sha1) throw new Error(`openssl sha1 ${ossl.digest} != sha1sum ${want.sha1}`);

    const id12 = await svc.createSession({ family: '1.2' });
    const id256 = await svc.createSession({ family: '2.0', banks: ['sha256'] });
    const id4 = await svc.createSession({ family: '2.0', banks: ['sha1', 'sha256', 'sha384', 'sha512'] });
    // Warm-up: JIT and the hashing workers.
    for (const id of [id12, id256, id4]) await curlMeasure(svc, id, file, false);
    await curlMeasure(svc, id12, file, true);

    // ---- rows 1 and 4: TPM 1.2 session, octet-stream and multipart, vs sha1sum and openssl
    const oursT = async (): Promise<number> => {
      const r = await curlMeasure(svc, id12, file, false);
      checkDigests(r.m, size, { sha1: want.sha1 ?? '' });
      return mibps(mib, r.ms);
    };
    const oursF = async (): Promise<number> => {
      const r = await curlMeasure(svc, id12, file, true);
      checkDigests(r.m, size, { sha1: want.sha1 ?? '' });
      return mibps(mib, r.ms);
    };
    const sha1sum = async (): Promise<number> => {
      const r = await sum('sha1sum', [file]);
      if (r.digests[0] !== want.sha1) throw new Error('sha1sum digest changed');
      return mibps(mib, r.ms);
    };
    const openssl1 = async (): Promise<number> => {
      const r = await opensslDgst('sha1', file);
      if (r.digest !== want.sha1) throw new Error('openssl digest differs');
      return mibps(mib, r.ms);
    };
    const bare = await startPeerServer(BARE_HASH);
    const bareT = async (): Promise<number> => {
      const r = await curlBare(bare.port, file);
      if (r.sha1 !== want.sha1) throw new Error('bare hashing server digest differs');
      return mibps(mib, r.ms);
    };
    const [t, s1, os1, f] = await interleaved(o.reps, o.budgetMs, [oursT, sha1sum, openssl1, oursF]);
    // The ceiling in a pass of its own, against sha1sum again: interleaved with ours, the bare server's
    // collection of the upload's garbage after each run slowed the next run of ours (0.67× for 0.86×).
    let b1: number[] | undefined, s1b: number[] | undefined;
    try {
      await bareT();
      [b1, s1b] = await interleaved(o.reps, o.budgetMs, [bareT, sha1sum]);
    } finally {
      await bare.stop();
    }
    const r1 = pairedRatio(t ?? [], s1 ?? []);
    const r1o = pairedRatio(t ?? [], os1 ?? []);
    const rBare = pairedRatio(b1 ?? [], s1b ?? []);
    rows.push({
      id: '1',
      section: 'Upload a file, TPM 1.2, hashing=host',
      measures: `\`curl -T FILE\` (${mib} MiB file, page cache warm) → \`POST /v1/sessions/{id}/measurements?hashing=host\` on a TPM 1.2 session, until the 201; dataDigests.sha1 = sha1sum's digest checked every run`,
      ours: figure(t ?? [], 'MiB/s'),
      peerName: `\`sha1sum FILE\` (${toolVersion('sha1sum') ?? 'sha1sum'})`,
      peer: figure(s1 ?? [], 'MiB/s'),
      ratio: r1,
      target: 'target: ≥ 1.0× sha1sum',
      verdict: verdictOf(o.quick, r1, true, { min: 1.0 }),
      notes: [
        `\`openssl dgst -sha1 FILE\` (${toolVersion('openssl', ['version']) ?? 'openssl'}; the SHA-1 limit of this CPU with OpenSSL's SHA-NI code, the same library node:crypto uses): ${figure(os1 ?? [], 'MiB/s').value.toFixed(0)} MiB/s; ours = ${(r1o ?? NaN).toFixed(2)}× openssl.`,
        'Both sides are a process started per run (curl, sha1sum), timed from spawn to exit; ours additionally pays curl reading the file, loopback TCP, HTTP parsing, the TPM_Extend and the event-log append.',
        `Ceiling of this design, same run: the same \`curl -T FILE\` to a bare node:http server that only drains the body and SHA-1-hashes it as it arrives (bench/lib/bare-hash.mjs, no framework, no session, no TPM), measured right after in a pass of its own against sha1sum: ${figure(b1 ?? [], 'MiB/s').value.toFixed(0)} MiB/s = ${(rBare ?? NaN).toFixed(2)}× sha1sum (ours ${(r1 ?? NaN).toFixed(2)}×).`,
        ...o.profile('1'),
      ],
    });
    const r4 = pairedRatio(f ?? [], t ?? []);
    rows.push({
      id: '4',
      section: 'Upload a file, multipart',
      measures: `\`curl -F blob=@FILE\` (same ${mib} MiB file, multipart/form-data) → the same route and session; digest checked`,
      ours: figure(f ?? [], 'MiB/s'),
      peerName: 'row 1 (`curl -T FILE`, octet-stream), same run',
      peer: figure(t ?? [], 'MiB/s'),
      ratio: r4,
      target: 'target: ≥ 0.8× row 1',
      verdict: verdictOf(o.quick, r4, true, { min: 0.8 }),
      notes: [`Against sha1sum: ${(pairedRatio(f ?? [], s1 ?? []) ?? NaN).toFixed(2)}×.`, ...o.profile('4')],
    });

    // ---- row 2: TPM 2.0, banks ["sha256"], vs sha256sum
    const ours256 = async (): Promise<number> => {
      const r = await curlMeasure(svc, id256, file, false);
      checkDigests(r.m, size, { sha256: want.sha256 ?? '' });
      return mibps(mib, r.ms);
    };
    const sha256sum = async (): Promise<number> => {
      const r = await sum('sha256sum', [file]);
      if (r.digests[0] !== want.sha256) throw new Error('sha256sum digest changed');
      return mibps(mib, r.ms);
    };
    const openssl256 = async (): Promise<number> => mibps(mib, (await opensslDgst('sha256', file)).ms);
    const [a2, p2, os2] = await interleaved(o.reps, o.budgetMs, [ours256, sha256sum, openssl256]);
    const r2 = pairedRatio(a2 ?? [], p2 ?? []);
    rows.push({
      id: '2',
      section: 'Upload a file, TPM 2.0 sha256 bank',
      measures: `\`curl -T FILE\` (${mib} MiB) → measurements?hashing=host on a TPM 2.0 session with \`banks:["sha256"]\`; dataDigests.sha256 checked`,
      ours: figure(a2 ?? [], 'MiB/s'),
      peerName: `\`sha256sum FILE\``,
      peer: figure(p2 ?? [], 'MiB/s'),
      ratio: r2,
      target: 'target: ≥ 1.5× sha256sum',
      verdict: verdictOf(o.quick, r2, true, { min: 1.5 }),
      notes: [`\`openssl dgst -sha256 FILE\`: ${figure(os2 ?? [], 'MiB/s').value.toFixed(0)} MiB/s; ours = ${(pairedRatio(a2 ?? [], os2 ?? []) ?? NaN).toFixed(2)}× openssl.`, ...o.profile('2')],
    });

    // ---- row 3: four banks vs the four *sum tools one after another
    const ours4 = async (): Promise<number> => {
      const r = await curlMeasure(svc, id4, file, false);
      checkDigests(r.m, size, want);
      return mibps(mib, r.ms);
    };
    const fourSums = async (): Promise<number> => {
      let ms = 0;
      for (const [bank, tool] of Object.entries(BANK_TOOL)) {
        const r = await sum(tool, [file]);
        if (r.digests[0] !== want[bank]) throw new Error(`${tool} digest changed`);
        ms += r.ms;
      }
      return mibps(mib, ms);
    };
    const [a3, p3] = await interleaved(o.reps, o.budgetMs, [ours4, fourSums]);
    const r3 = pairedRatio(a3 ?? [], p3 ?? []);
    rows.push({
      id: '3',
      section: 'Upload a file, 4 banks',
      measures: `\`curl -T FILE\` (${mib} MiB) → measurements?hashing=host on a TPM 2.0 session with banks sha1+sha256+sha384+sha512; all four dataDigests checked`,
      ours: figure(a3 ?? [], 'MiB/s'),
      peerName: '`sha1sum FILE; sha256sum FILE; sha384sum FILE; sha512sum FILE` one after another (file size ÷ total time)',
      peer: figure(p3 ?? [], 'MiB/s'),
      ratio: r3,
      target: 'target: ≥ 2.0× the four tools',
      verdict: verdictOf(o.quick, r3, true, { min: 2.0 }),
      notes: [...o.profile('3')],
    });

    // ---- row 10 (sizes): row 1 at each size, each against sha1sum on the same file
    const points: Array<{ mib: number; ours: number; peer: number; ratio: number | null }> = [];
    for (const m of o.slopeMiB) {
      const fsz = m * MiB;
      const path = m === mib ? file : files.file(`blob-${m}M.bin`, fsz);
      const w = m === mib ? want.sha1 : (await sum('sha1sum', [path])).digests[0];
      const ours = async (): Promise<number> => {
        const r = await curlMeasure(svc, id12, path, false);
        checkDigests(r.m, fsz, { sha1: w ?? '' });
        return mibps(m, r.ms);
      };
      const peer = async (): Promise<number> => mibps(m, (await sum('sha1sum', [path])).ms);
      const reps = m === mib ? Math.max(3, Math.ceil(o.reps / 2)) : o.reps + 2;
      const [a, p] = await interleaved(reps, o.budgetMs / 2, [ours, peer]);
      points.push({ mib: m, ours: figure(a ?? [], '').value, peer: figure(p ?? [], '').value, ratio: pairedRatio(a ?? [], p ?? []) });
    }
    let worstDrop = 0;
    for (let i = 1; i < points.length; i++) {
      const prev = points[i - 1];
      const cur = points[i];
      if (prev && cur) worstDrop = Math.max(worstDrop, 1 - cur.ours / prev.ours);
    }
    // Slope: time per MiB between the smallest and the largest size (fixed cost removed).
    const first = points[0];
    const last = points[points.length - 1];
    const msAt = (p: { mib: number; ours: number }): number => (p.mib * 1000) / p.ours;
    const slope = first && last && last.mib > first.mib ? (msAt(last) - msAt(first)) / (last.mib - first.mib) : NaN;
    const fixed = first ? msAt(first) - slope * first.mib : NaN;
    const dropOk = worstDrop <= 0.2;
    rows.push({
      id: '10a',
      section: 'Cost growth, upload size',
      measures: `row 1 (\`curl -T FILE\`, TPM 1.2, hashing=host) at ${o.slopeMiB.join(', ')} MiB: ${points.map((p) => `${p.mib} MiB: ${p.ours.toFixed(0)} MiB/s (${(p.ratio ?? NaN).toFixed(2)}× sha1sum at ${p.peer.toFixed(0)} MiB/s)`).join('; ')}`,
      ours: { value: slope, unit: 'ms per MiB (slope)', reps: 1, min: slope, max: slope },
      peerName: 'throughput of the previous (smaller) size',
      peer: null,
      ratio: 1 - worstDrop,
      target: 'target: report the slope; no size where throughput drops by > 20 % from the smaller size',
      verdict: o.quick && !dropOk ? 'not judged (--quick)' : dropOk ? 'meets target' : 'MISSED target',
      notes: [
        `Fixed cost per upload (intercept: curl start, connection, session turn, 201): ${fixed.toFixed(1)} ms; marginal cost ${slope.toFixed(3)} ms/MiB (= ${(1000 / slope).toFixed(0)} MiB/s). Largest drop from one size to the next: ${(worstDrop * 100).toFixed(0)} % (ratio column = 1 − drop; throughput rises with size, as the fixed cost is amortised).`,
        ...o.profile('10a'),
      ],
    });
    return rows;
  } finally {
    files.remove();
  }
}
