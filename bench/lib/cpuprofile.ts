/**
 * Summarise a V8 .cpuprofile (written by `node --cpu-prof`): self time per function, the top
 * entries as one line each, so a profiling run can be read in BENCHMARKS.md.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
}

export interface SelfTime {
  name: string;
  share: number;
}

/** Self-time shares (of all samples, idle excluded) of the `top` hungriest functions. */
export function topSelf(profile: CpuProfile, top = 8): { busyShare: number; entries: SelfTime[] } {
  const by = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const n of profile.nodes) {
    const h = n.hitCount ?? 0;
    total += h;
    const f = n.callFrame;
    if (f.functionName === '(idle)') {
      idle += h;
      continue;
    }
    const where = f.url ? `${basename(f.url)}:${f.lineNumber + 1}` : '';
    const key = `${f.functionName || '(anonymous)'}${where ? ` ${where}` : ''}`;
    by.set(key, (by.get(key) ?? 0) + h);
  }
  const busy = total - idle;
  const entries = [...by.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, h]) => ({ name, share: busy > 0 ? h / busy : 0 }));
  return { busyShare: total > 0 ? busy / total : 0, entries };
}

/** The summary of every .cpuprofile in `dir` (one per thread) as text lines. */
export function summariseDir(dir: string, top = 8): string[] {
  const out: string[] = [];
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.cpuprofile')).sort()) {
    const p = JSON.parse(readFileSync(join(dir, f), 'utf8')) as CpuProfile;
    const { busyShare, entries } = topSelf(p, top);
    const secs = (p.endTime - p.startTime) / 1e6;
    out.push(
      `${f.includes('.0.') ? 'thread' : 'thread'} ${f.split('.').slice(-3, -1).join('.')}: busy ${(busyShare * 100).toFixed(0)} % of ${secs.toFixed(1)} s; self time: ${entries.map((e) => `${e.name} ${(e.share * 100).toFixed(0)} %`).join(', ')}`,
    );
  }
  return out;
}
