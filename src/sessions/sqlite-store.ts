/**
 * The embedded default store: one SQLite file under DATA_DIR (better-sqlite3), WAL journal,
 * synchronous=FULL so a commit that returned survives a crash of the process or the machine
 * (SQLite docs, "PRAGMA synchronous": FULL syncs the WAL on every commit). One process owns the
 * file; within it the session's in-process queue serializes its requests, and every write checks
 * the row's version so a second process on the same file could never lose an update silently.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SCHEMA_VERSION, SchemaTooNewError, type SessionStore, type SessionWrite, type StoreLock, type StoreTxn, type StoredChanges, type StoredSession } from './store.js';
import type { SessionHead, SessionLogEvent } from './session.js';

/** Versioned migrations: index i brings the schema from version i to i + 1. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE sessions (
     id TEXT PRIMARY KEY,
     owner TEXT,
     created_at INTEGER NOT NULL,
     last_used_at INTEGER NOT NULL,
     version INTEGER NOT NULL,
     event_count INTEGER NOT NULL,
     head TEXT NOT NULL
   );
   CREATE INDEX sessions_last_used ON sessions (last_used_at);
   CREATE TABLE session_events (
     session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
     idx INTEGER NOT NULL,
     version INTEGER NOT NULL,
     event TEXT NOT NULL,
     PRIMARY KEY (session_id, idx)
   ) WITHOUT ROWID;`,
];

interface Row {
  id: string;
  owner: string | null;
  created_at: number;
  last_used_at: number;
  version: number;
  head: string;
}

/** A write waiting for the next group commit. */
interface PendingWrite {
  apply(): void;
  resolve(): void;
  reject(e: unknown): void;
}

export class SqliteSessionStore implements SessionStore {
  readonly driver = 'sqlite' as const;
  private db: Database.Database | undefined;
  private readonly file: string;
  /** Writes queued for the next group commit, and whether one is scheduled. */
  private pending: PendingWrite[] = [];
  private flushScheduled = false;
  /** Statements prepared once per connection (preparing costs more than running them). */
  private stmts: Map<string, Database.Statement> = new Map();

  /** `dataDir` ':memory:' keeps the database in memory (tests). */
  constructor(private readonly dataDir: string) {
    this.file = dataDir === ':memory:' ? ':memory:' : join(dataDir, 'sessions.sqlite');
  }

  private get conn(): Database.Database {
    if (!this.db) throw new Error('the SQLite store is not open');
    return this.db;
  }

  /** The statement for `sql`, prepared on first use and kept for the connection's life. */
  private sql(sql: string): Database.Statement {
    let st = this.stmts.get(sql);
    if (!st) {
      st = this.conn.prepare(sql);
      this.stmts.set(sql, st);
    }
    return st;
  }

  async open(): Promise<void> {
    if (this.file !== ':memory:') mkdirSync(this.dataDir, { recursive: true });
    const db = new Database(this.file);
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('foreign_keys = ON');
      db.pragma('busy_timeout = 5000');
      const current = Number(db.pragma('user_version', { simple: true }));
      if (current > SCHEMA_VERSION) throw new SchemaTooNewError(current, this.file);
      for (let v = current; v < SCHEMA_VERSION; v++) {
        db.transaction(() => {
          db.exec(MIGRATIONS[v] ?? '');
          db.pragma(`user_version = ${v + 1}`);
        }).immediate();
      }
    } catch (e) {
      db.close();
      throw e;
    }
    this.db = db;
  }

  /**
   * Group commit: writes requested while the event loop runs are applied together in one SQLite
   * transaction at the next turn — one WAL sync (synchronous=FULL) for all of them — each inside its
   * own savepoint, so one write that fails is undone alone and only its caller sees the error. Every
   * caller's promise settles after the transaction holding its write is durable (or failed).
   */
  private write(apply: () => void): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ apply, resolve, reject });
      if (this.flushScheduled) return;
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    const batch = this.pending;
    this.pending = [];
    this.flushScheduled = false;
    const failed = new Map<PendingWrite, unknown>();
    try {
      this.sql('BEGIN IMMEDIATE').run();
      try {
        for (const w of batch) {
          this.sql('SAVEPOINT w').run();
          try {
            w.apply();
          } catch (e) {
            this.sql('ROLLBACK TO w').run();
            failed.set(w, e);
          }
          this.sql('RELEASE w').run();
        }
        this.sql('COMMIT').run();
      } catch (e) {
        if (this.conn.inTransaction) this.sql('ROLLBACK').run();
        throw e;
      }
    } catch (e) {
      for (const w of batch) w.reject(e);
      return;
    }
    for (const w of batch) {
      if (failed.has(w)) w.reject(failed.get(w));
      else w.resolve();
    }
  }

  insert(s: StoredSession): Promise<void> {
    return this.write(() => {
      this.sql('INSERT INTO sessions (id, owner, created_at, last_used_at, version, event_count, head) VALUES (?, ?, ?, ?, ?, ?, ?)').run(s.id, s.owner, s.createdAt, s.lastUsedAt, s.version, s.events.length, JSON.stringify(s.head));
      this.insertEvents(s.id, 0, s.events, s.version);
    });
  }

  private insertEvents(id: string, from: number, events: readonly SessionLogEvent[], version: number): void {
    if (events.length === 0) return;
    const ins = this.sql('INSERT INTO session_events (session_id, idx, version, event) VALUES (?, ?, ?, ?)');
    events.forEach((e, i) => ins.run(id, from + i, version, JSON.stringify(e)));
  }

  async changes(id: string, version: number, known: number): Promise<StoredChanges | undefined> {
    const db = this.conn;
    return db.transaction(() => {
      const r = this.sql('SELECT last_used_at, version, event_count, head FROM sessions WHERE id = ?').get(id) as (Row & { event_count: number }) | undefined;
      if (!r) return undefined;
      const events = (this.sql('SELECT idx, event FROM session_events WHERE session_id = ? AND (idx >= ? OR version > ?) ORDER BY idx').all(id, known, version) as { idx: number; event: string }[]).map((e) => ({ idx: e.idx, event: JSON.parse(e.event) as SessionLogEvent }));
      return { version: r.version, lastUsedAt: r.last_used_at, head: JSON.parse(r.head) as SessionHead, count: r.event_count, events };
    })();
  }

  private read(id: string): StoredSession | undefined {
    const r = this.sql('SELECT id, owner, created_at, last_used_at, version, head FROM sessions WHERE id = ?').get(id) as Row | undefined;
    if (!r) return undefined;
    const events = (this.sql('SELECT event FROM session_events WHERE session_id = ? ORDER BY idx').all(id) as { event: string }[]).map((e) => JSON.parse(e.event) as SessionLogEvent);
    return { id: r.id, owner: r.owner, createdAt: r.created_at, lastUsedAt: r.last_used_at, version: r.version, head: JSON.parse(r.head) as SessionHead, events };
  }

  async load(id: string): Promise<StoredSession | undefined> {
    return this.conn.transaction(() => this.read(id))();
  }

  async delete(id: string): Promise<boolean> {
    return this.sql('DELETE FROM sessions WHERE id = ?').run(id).changes > 0;
  }

  async ids(owner?: string | null): Promise<string[]> {
    const rows = (owner === undefined
      ? this.sql('SELECT id FROM sessions ORDER BY created_at, id').all()
      : this.sql('SELECT id FROM sessions WHERE owner IS ? ORDER BY created_at, id').all(owner)) as { id: string }[];
    return rows.map((r) => r.id);
  }

  async count(): Promise<number> {
    return (this.sql('SELECT count(*) AS n FROM sessions').get() as { n: number }).n;
  }

  async touch(id: string, lastUsedAt: number, minAdvanceMs = 0): Promise<number | undefined> {
    const r = this.sql('UPDATE sessions SET last_used_at = ? WHERE id = ? AND last_used_at < ? RETURNING version').get(lastUsedAt, id, lastUsedAt - minAdvanceMs) as { version: number } | undefined;
    if (r) return r.version;
    return (this.sql('SELECT version FROM sessions WHERE id = ?').get(id) as { version: number } | undefined)?.version;
  }

  async expire(cutoff: number, keep: ReadonlySet<string>): Promise<string[]> {
    const db = this.conn;
    return db.transaction(() => {
      const ids = (this.sql('SELECT id FROM sessions WHERE last_used_at < ?').all(cutoff) as { id: string }[]).map((r) => r.id).filter((id) => !keep.has(id));
      const del = this.sql('DELETE FROM sessions WHERE id = ?');
      for (const id of ids) del.run(id);
      return ids;
    }).immediate();
  }

  async begin(id: string): Promise<StoreTxn> {
    const version = (this.sql('SELECT version FROM sessions WHERE id = ?').get(id) as { version: number } | undefined)?.version;
    return {
      version,
      load: () => this.load(id),
      changes: (v, known) => this.changes(id, v, known),
      commit: (w: SessionWrite) =>
        this.write(() => {
          const changed = this.sql('UPDATE sessions SET version = ?, last_used_at = max(last_used_at, ?), event_count = ?, head = ? WHERE id = ? AND version = ?').run(w.version, w.lastUsedAt, w.eventsFrom + w.events.length, JSON.stringify(w.head), id, version ?? -1).changes;
          if (changed !== 1) throw new Error(`session ${id} changed or disappeared under its lock`);
          this.sql('DELETE FROM session_events WHERE session_id = ? AND idx >= ?').run(id, w.eventsFrom);
          this.insertEvents(id, w.eventsFrom, w.events, w.version);
        }),
      abort: async () => undefined,
    };
  }

  async lock(): Promise<StoreLock> {
    return { release: async () => undefined };
  }

  async ping(): Promise<void> {
    this.sql('SELECT 1').get();
  }

  async close(): Promise<void> {
    if (this.pending.length > 0) this.flush();
    this.stmts.clear();
    this.db?.close();
    this.db = undefined;
  }
}
