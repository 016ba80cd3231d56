/**
 * The durable session store behind one interface, three drivers: SQLite (the embedded default,
 * src/sessions/sqlite-store.ts), PostgreSQL (several replicas, src/sessions/pg-store.ts) and memory
 * (tests that do not care). A session is one row — its head (options, TPM, TIS, counters and the
 * log header as JSON, a few KiB whatever its history) and a version — plus one row per log event,
 * appended, so a commit after N events writes the head and the new events, never the N old ones.
 */
import type { SessionHead, SessionLogEvent } from './session.js';

export type StoreDriver = 'memory' | 'sqlite' | 'postgres';

export interface StoredSession {
  id: string;
  owner: string | null;
  createdAt: number;
  lastUsedAt: number;
  version: number;
  head: SessionHead;
  events: SessionLogEvent[];
}

/**
 * What changed in a stored session since a version a replica holds: the head, and the log events
 * written after that version (appended, or rewritten by a digest change) — so bringing a replica up
 * to date costs what changed, not the session's history.
 */
export interface StoredChanges {
  version: number;
  lastUsedAt: number;
  head: SessionHead;
  /** Events in the store now. */
  count: number;
  events: { idx: number; event: SessionLogEvent }[];
}

export interface SessionWrite {
  /** The version the row gets (the locked version + 1). */
  version: number;
  lastUsedAt: number;
  /**
   * last_used_at need not move for less than this (ms; 0: always): it only drives expiry, and
   * moving it rewrites its index entry on every commit. As Session reads use for touch().
   */
  lastUsedMinAdvanceMs?: number;
  head: SessionHead;
  /** Events from this index on are replaced by `events` (appended ones, or ones whose digest changed). */
  eventsFrom: number;
  events: SessionLogEvent[];
}

/** One session's write transaction: the store lock is held until commit or abort. */
export interface StoreTxn {
  /** The stored version, undefined when the row is gone (deleted or expired elsewhere). */
  readonly version: number | undefined;
  /** The stored session, read under the lock. */
  load(): Promise<StoredSession | undefined>;
  /** What changed since `version` (events with index ≥ `known` or written after `version`), under the lock. */
  changes(version: number, known: number): Promise<StoredChanges | undefined>;
  commit(w: SessionWrite): Promise<void>;
  abort(): Promise<void>;
}

/** A session's store lock held across several transactions (a socket client's sequence). */
export interface StoreLock {
  release(): Promise<void>;
}

export interface SessionStore {
  readonly driver: StoreDriver;
  /** Create the schema or bring it up to date; refuses a schema newer than this build knows. */
  open(): Promise<void>;
  insert(s: StoredSession): Promise<void>;
  load(id: string): Promise<StoredSession | undefined>;
  changes(id: string, version: number, known: number): Promise<StoredChanges | undefined>;
  delete(id: string): Promise<boolean>;
  /** Ids of the stored sessions (of `owner` when given), oldest first. */
  ids(owner?: string | null): Promise<string[]>;
  count(): Promise<number>;
  /**
   * Mark a session used (written only when the stored time is more than `minAdvanceMs` older, so
   * reads rarely write); its stored version, undefined when the row is gone.
   */
  touch(id: string, lastUsedAt: number, minAdvanceMs?: number): Promise<number | undefined>;
  /** Delete the sessions last used before `cutoff` except `keep`; returns their ids. */
  expire(cutoff: number, keep: ReadonlySet<string>): Promise<string[]>;
  /** Lock the session for one write transaction (inside `lock` when the caller holds one). */
  begin(id: string, lock?: StoreLock): Promise<StoreTxn>;
  lock(id: string): Promise<StoreLock>;
  /** Resolves when the store answers. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** The schema version this build writes; a store at a newer version is refused. */
export const SCHEMA_VERSION = 1;

export class SchemaTooNewError extends Error {
  constructor(found: number, where: string) {
    super(`the session store at ${where} has schema version ${found}, newer than ${SCHEMA_VERSION} which this build knows; start a newer build or point DATA_DIR/DATABASE_URL elsewhere`);
    this.name = 'SchemaTooNewError';
  }
}

/** The store's copy is independent of the caller's objects (what a real database gives). */
function clone<T>(v: T): T {
  return structuredClone(v);
}

/** In-memory rows (no durability): for tests and `STORE=memory`. Same semantics as the databases. */
export class MemorySessionStore implements SessionStore {
  readonly driver = 'memory' as const;
  private readonly rows = new Map<string, StoredSession>();
  /** The version that wrote each event, per session. */
  private readonly written = new Map<string, number[]>();

  async open(): Promise<void> {}
  async insert(s: StoredSession): Promise<void> {
    if (this.rows.has(s.id)) throw new Error(`session ${s.id} exists`);
    this.rows.set(s.id, clone(s));
    this.written.set(s.id, s.events.map(() => s.version));
  }
  async changes(id: string, version: number, known: number): Promise<StoredChanges | undefined> {
    const r = this.rows.get(id);
    if (!r) return undefined;
    const w = this.written.get(id) ?? [];
    const events = r.events.map((event, idx) => ({ idx, event })).filter((e) => e.idx >= known || (w[e.idx] ?? 0) > version);
    return clone({ version: r.version, lastUsedAt: r.lastUsedAt, head: r.head, count: r.events.length, events });
  }
  async load(id: string): Promise<StoredSession | undefined> {
    const r = this.rows.get(id);
    return r ? clone(r) : undefined;
  }
  async delete(id: string): Promise<boolean> {
    this.written.delete(id);
    return this.rows.delete(id);
  }
  async ids(owner?: string | null): Promise<string[]> {
    return [...this.rows.values()].filter((r) => owner === undefined || r.owner === owner).map((r) => r.id);
  }
  async count(): Promise<number> {
    return this.rows.size;
  }
  async touch(id: string, lastUsedAt: number, minAdvanceMs = 0): Promise<number | undefined> {
    const r = this.rows.get(id);
    if (!r) return undefined;
    if (lastUsedAt - r.lastUsedAt > minAdvanceMs) r.lastUsedAt = lastUsedAt;
    return r.version;
  }
  async expire(cutoff: number, keep: ReadonlySet<string>): Promise<string[]> {
    const out: string[] = [];
    for (const r of this.rows.values()) {
      if (r.lastUsedAt < cutoff && !keep.has(r.id)) out.push(r.id);
    }
    for (const id of out) {
      this.rows.delete(id);
      this.written.delete(id);
    }
    return out;
  }
  async begin(id: string): Promise<StoreTxn> {
    const version = this.rows.get(id)?.version;
    return {
      version,
      load: () => this.load(id),
      changes: (v, known) => this.changes(id, v, known),
      commit: async (w) => {
        const r = this.rows.get(id);
        if (!r || r.version !== version) throw new Error(`session ${id} changed or disappeared under its lock`);
        r.version = w.version;
        r.lastUsedAt = Math.max(r.lastUsedAt, w.lastUsedAt);
        r.head = clone(w.head);
        r.events.length = Math.min(r.events.length, w.eventsFrom);
        r.events.push(...clone(w.events));
        const written = this.written.get(id) ?? [];
        written.length = Math.min(written.length, w.eventsFrom);
        written.push(...w.events.map(() => w.version));
        this.written.set(id, written);
      },
      abort: async () => undefined,
    };
  }
  async lock(): Promise<StoreLock> {
    return { release: async () => undefined };
  }
  async ping(): Promise<void> {}
  async close(): Promise<void> {}
}
