/**
 * The process's memory budget (MEMORY_BUDGET_MB): new sessions and log growth are refused with a
 * 503 problem and Retry-After once the resident set reaches it, before the process is at risk.
 * Logs allocate lazily (they grow towards their logSize as events arrive), so a thousand sessions
 * with 16 MiB logs cost what their events cost, and the budget is checked where memory is taken.
 */
import { DomainError } from '../errors.js';

let budgetBytes = Infinity;
/**
 * The process's resident size, read at most every RSS_READ_MS (reading it is a /proc read: it cost
 * session creation 8 % of its time when read per session); a budget check may be that much late.
 */
const RSS_READ_MS = 20;
let rssAt = -Infinity;
let rssBytes = 0;
function processRss(): number {
  const now = performance.now();
  if (now - rssAt >= RSS_READ_MS) {
    rssBytes = process.memoryUsage.rss();
    rssAt = now;
  }
  return rssBytes;
}
let residentBytes: () => number = processRss;

/** Set the budget (bytes; Infinity = none) and, for tests, how the resident size is read. */
export function setMemoryBudget(bytes: number, reader?: () => number): void {
  budgetBytes = bytes;
  if (reader) residentBytes = reader;
}

export function memoryBudget(): number {
  return budgetBytes;
}

/** Throws a 503 `memory-exhausted` problem when taking `bytes` more would pass the budget. */
export function reserveMemory(bytes: number, what: string): void {
  if (budgetBytes === Infinity) return;
  const rss = residentBytes();
  if (rss + bytes > budgetBytes) {
    throw new DomainError(
      'memory-exhausted',
      `${what} needs ${bytes} bytes more, and the service is at its memory budget (${Math.round(rss / 2 ** 20)} of ${Math.round(budgetBytes / 2 ** 20)} MiB, MEMORY_BUDGET_MB); delete sessions or retry later`,
      { budgetBytes, residentBytes: rss },
      10,
    );
  }
}
