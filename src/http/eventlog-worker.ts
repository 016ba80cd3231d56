/** Worker thread entry: runs event-log jobs and answers with the JSON text of the response body. */
import { parentPort } from 'node:worker_threads';
import { DomainError } from '../errors.js';
import { runEventLogJob, type EventLogJob } from './eventlog-jobs.js';

parentPort?.on('message', (m: { id: number; job: EventLogJob }) => {
  try {
    parentPort?.postMessage({ id: m.id, json: JSON.stringify(runEventLogJob(m.job)) });
  } catch (e) {
    if (e instanceof DomainError) parentPort?.postMessage({ id: m.id, problem: { kind: e.kind, detail: e.message, extra: e.extra } });
    else parentPort?.postMessage({ id: m.id, failure: String((e as Error)?.stack ?? e) });
  }
});
