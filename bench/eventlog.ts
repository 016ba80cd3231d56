/**
 * Row 6: event-log replay. All vectors (test/fixtures/eventlogs/*.bin) parsed and replayed
 * in-process (parseEventLog + replayEventLog) per pass, against `tpm2_eventlog <file>` spawned once
 * per file per pass. Spawn cost is measured separately (`true` per file, one `node -e 0`) so the
 * text can say how much of the peer's time is process start-up.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEventLog, replayEventLog } from '../src/eventlog/index.js';
import { EVENTLOG_FIXTURE_DIR } from '../test/fixtures/eventlogs/index.js';
import { judge, type Row } from './lib/report.js';
import { figure, interleaved, median, pairedRatio, timeMs } from './lib/stats.js';

export const VECTOR_DIR = process.env.BENCH_EVENTLOG_DIR ?? EVENTLOG_FIXTURE_DIR;

export function tpm2EventlogVersion(): string | null {
  const r = spawnSync('tpm2_eventlog', ['--version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return null;
  const m = /version="?([^"\s]+)"?/.exec(r.stdout);
  return m ? `tpm2-tools ${m[1]}` : r.stdout.trim().split('\n')[0] ?? 'tpm2_eventlog';
}

function run(cmd: string, args: string[]): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    p.stdout.resume();
    p.stderr.resume();
    p.on('error', reject);
    p.on('close', (code) => resolve(code ?? -1));
  });
}

export async function benchEventLogReplay(peerName: string | null): Promise<Row> {
  let files: string[] = [];
  try {
    files = readdirSync(VECTOR_DIR).filter((f) => f.endsWith('.bin')).sort().map((f) => join(VECTOR_DIR, f));
  } catch (e) {
    throw new Error(`event-log vectors not readable in ${VECTOR_DIR}: ${(e as Error).message}`);
  }
  if (files.length === 0) throw new Error(`no *.bin vectors in ${VECTOR_DIR}`);
  const blobs = files.map((f) => new Uint8Array(readFileSync(f)));
  const totalKiB = blobs.reduce((a, b) => a + b.length, 0) / 1024;

  let events = 0;
  const pass = (): void => {
    events = 0;
    for (const b of blobs) {
      const log = parseEventLog(b);
      replayEventLog(log);
      events += log.events.length;
    }
  };
  for (let i = 0; i < 5; i++) pass(); // warm-up

  const failures = new Set<string>();
  const peerPass = peerName
    ? async (): Promise<number> =>
        timeMs(async () => {
          for (const f of files) if ((await run('tpm2_eventlog', [f])) !== 0) failures.add(f);
        })
    : null;
  if (!peerName) console.error('\n!!!!! tpm2_eventlog not installed: the event-log row has no peer !!!!!\n');
  // Ours: median over up to 20 passes (bounded by 1 s) per repetition.
  const ours = async (): Promise<number> => {
    const t: number[] = [];
    const t0 = Date.now();
    while (t.length < 20 && (t.length < 3 || Date.now() - t0 < 1000)) t.push(await timeMs(pass));
    return median(t);
  };
  const [o, p] = await interleaved(5, 20_000, [ours, peerPass]);
  const oursFig = figure(o ?? [], 'ms/pass');
  const peerFig = p && p.length > 0 ? figure(p, 'ms/pass') : null;
  const ratio = peerFig ? pairedRatio(p ?? [], o ?? []) : null;

  const notes: string[] = [
    `${files.length} vectors, ${totalKiB.toFixed(0)} KiB, ${events} events in total; a pass is parse + replay of every vector (ours, in-process, files read once up front) or one \`tpm2_eventlog <file>\` spawn per vector with its YAML output drained (peer). Ratio = peer time ÷ our time.`,
  ];
  if (peerName) {
    const spawnFloor: number[] = [];
    for (let i = 0; i < 3; i++) spawnFloor.push(await timeMs(async () => { for (let k = 0; k < files.length; k++) await run('true', []); }));
    const nodeStart: number[] = [];
    for (let i = 0; i < 3; i++) nodeStart.push(await timeMs(() => run(process.execPath, ['-e', '0'])));
    const floor = median(spawnFloor);
    notes.push(
      `Spawn overhead: ${files.length} spawns of \`true\` take ${floor.toFixed(1)} ms (median of 3), i.e. ~${((floor / (peerFig?.value ?? floor)) * 100).toFixed(0)}% of the tpm2_eventlog pass is process start-up; without it the peer would need ~${Math.max(0, (peerFig?.value ?? 0) - floor).toFixed(1)} ms per pass.`,
      `For scale, one \`node -e 0\` spawn (what running our CLI once would at least cost) takes ${median(nodeStart).toFixed(1)} ms (median of 3) — a one-shot CLI invocation of ours would lose to tpm2_eventlog on start-up alone; the in-process figure is what the service's /v1/event-logs/replay pays per request (plus HTTP).`,
    );
    if (failures.size > 0) notes.push(`tpm2_eventlog exited non-zero on: ${[...failures].map((f) => f.split('/').pop()).join(', ')}.`);
  }
  return {
    section: 'Event-log replay',
    measures: `all ${files.length} vectors parsed + replayed (parseEventLog + replayEventLog), per pass`,
    ours: oursFig,
    peerName: peerName ? `${peerName} \`tpm2_eventlog\`, one spawn per file` : 'tpm2_eventlog — peer unavailable',
    peer: peerFig,
    ratio,
    target: 'target: ≥ 1× tpm2_eventlog (per pass, spawn included)',
    verdict: judge(ratio, peerFig !== null, { min: 1 }),
    notes,
  };
}
