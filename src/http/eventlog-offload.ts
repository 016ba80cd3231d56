/**
 * Event-log jobs off the event loop. A log of at most OFFLOAD_BYTES is replayed inline (a few
 * milliseconds); a larger one goes to a worker thread, which answers with the response body already
 * serialized, so neither parsing, replaying nor serializing a 16 MiB log holds the event loop.
 * One lazily started worker runs the jobs one after another; it is unref'd so it never keeps the
 * process alive.
 */
import { Worker } from 'node:worker_threads';
import { DomainError, type ProblemKind } from '../errors.js';
import { jobLogSize, runEventLogJob, type EventLogJob } from './eventlog-jobs.js';

/** Logs up to this size are handled inline. */
export const OFFLOAD_BYTES = 256 * 1024;

interface Reply {
  id: number;
  json?: string;
  problem?: { kind: ProblemKind; detail: string; extra: Record<string, unknown> };
  failure?: string;
}

type Pending = { resolve: (json: string) => void; reject: (e: Error) => void };

let worker: Worker | undefined;
const stats = { inline: 0, offloaded: 0 };

/** How many jobs ran inline and on the worker (for tests and metrics). */
export function eventLogJobStats(): Readonly<typeof stats> {
  return { ...stats };
}
const pending = new Map<number, Pending>();
let nextId = 1;

function startWorker(): Worker {
  const here = import.meta.url;
  const url = new URL(`./eventlog-worker${here.endsWith('.ts') ? '.ts' : '.js'}`, here);
  // Under tsx (development, tests) the worker registers tsx before importing the TypeScript entry.
  const w = here.endsWith('.ts')
    ? new Worker(`(async () => { const { register } = await import('tsx/esm/api'); register(); await import(${JSON.stringify(url.href)}); })();`, { eval: true })
    : new Worker(url);
  w.unref();
  w.on('message', (m: Reply) => {
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    if (m.json !== undefined) p.resolve(m.json);
    else if (m.problem) p.reject(new DomainError(m.problem.kind, m.problem.detail, m.problem.extra));
    else p.reject(new Error(`event-log worker failed: ${m.failure ?? 'no answer'}`));
  });
  const fail = (e: Error): void => {
    worker = undefined;
    for (const p of pending.values()) p.reject(e);
    pending.clear();
  };
  w.on('error', fail);
  w.on('exit', (code) => fail(new Error(`event-log worker exited (${code})`)));
  return w;
}

/** The response body: an object (small logs, inline) or its JSON text (large logs, from the worker). */
export function eventLogResponse(job: EventLogJob): Promise<Record<string, unknown> | string> {
  if (jobLogSize(job) <= OFFLOAD_BYTES) {
    stats.inline++;
    return Promise.resolve(runEventLogJob(job));
  }
  stats.offloaded++;
  worker ??= startWorker();
  const w = worker;
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    w.postMessage({ id, job });
  });
}

/** Stop the worker (graceful shutdown). */
export async function closeEventLogWorker(): Promise<void> {
  const w = worker;
  worker = undefined;
  if (w) await w.terminate();
}
