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
  children?: number[];
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

/**
 * Inclusive shares (a function and everything it called, of the busy samples) of the main thread's
 * profile in `dir`, for the functions of our own code (dist/src) and a few of Node's that matter
 * (the response write, GC), `top` of them.
 */
export function summariseInclusive(dir: string, top = 25): string[] {
  const f = readdirSync(dir).filter((x) => x.endsWith('.cpuprofile')).sort()[0];
  if (!f) return [];
  const p = JSON.parse(readFileSync(join(dir, f), 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const name = (n: ProfileNode): string => `${n.callFrame.functionName || '(anonymous)'}${n.callFrame.url ? ` ${basename(n.callFrame.url)}:${n.callFrame.lineNumber + 1}` : ''}`;
  const own = (n: ProfileNode): boolean => /\/dist\/src\//.test(n.callFrame.url) || ['writev', '(garbage collector)'].includes(n.callFrame.functionName);
  const counts = new Map<string, number>();
  let busy = 0;
  for (const n of p.nodes) {
    const h = n.hitCount ?? 0;
    if (h === 0 || n.callFrame.functionName === '(idle)') continue;
    busy += h;
    const seen = new Set<string>();
    for (let id: number | undefined = n.id; id !== undefined; id = parent.get(id)) {
      const m = byId.get(id);
      if (!m || !own(m)) continue;
      const k = name(m);
      if (seen.has(k)) continue;
      seen.add(k);
      counts.set(k, (counts.get(k) ?? 0) + h);
    }
  }
  const rows = [...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
  return [`${f}: inclusive shares of the busy time: ${rows.map(([k, v]) => `${k} ${((v / Math.max(1, busy)) * 100).toFixed(1)} %`).join(', ')}`];
}

interface HeapNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: HeapNode[];
}

/** The `top` allocation sites by live bytes in a .heapprofile (`node --heap-prof`), as text. */
export function summariseHeapDir(dir: string, top = 12): string[] {
  const out: string[] = [];
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.heapprofile')).sort()) {
    const root = (JSON.parse(readFileSync(join(dir, f), 'utf8')) as { head: HeapNode }).head;
    const by = new Map<string, number>();
    let total = 0;
    const walk = (n: HeapNode, path: string[]): void => {
      const c = n.callFrame;
      const name = `${c.functionName || '(anonymous)'}${c.url ? ` ${basename(c.url)}:${c.lineNumber + 1}` : ''}`;
      if (n.selfSize > 0) {
        // Attribute to the innermost frame of our own code (dist/src, bench) when there is one.
        const own = [...path, name].reverse().find((p) => /\.js:\d+$/.test(p) && !/node:|internal/.test(p)) ?? name;
        by.set(own, (by.get(own) ?? 0) + n.selfSize);
        total += n.selfSize;
      }
      for (const ch of n.children) walk(ch, [...path, name]);
    };
    walk(root, []);
    const entries = [...by.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
    out.push(`${f}: ${(total / 1048576).toFixed(1)} MiB sampled live; ${entries.map(([k, v]) => `${k} ${(v / 1048576).toFixed(1)} MiB`).join(', ')}`);
  }
  return out;
}
