/**
 * The embedded default store: one SQLite file under DATA_DIR (better-sqlite3), WAL journal, with
 * the durability of synchronous=FULL: a commit that was acknowledged survives a crash of the process
 * or the machine. FULL makes SQLite fdatasync the WAL inside every COMMIT, which blocks the event
 * loop for the length of a disk sync; here SQLite runs with synchronous=OFF and the store syncs the
 * WAL itself, off the event loop (fs.fdatasync on the libuv pool), and settles a write only after a
 * sync that started after its COMMIT — the same sync of the same file that FULL does (SQLite docs,
 * "PRAGMA synchronous": in WAL mode FULL syncs the WAL after each commit). Checkpoints, which copy
 * the WAL into the database and then reuse it, must sync the database first: SQLite's automatic
 * checkpoint is off and the store runs them itself with synchronous=FULL (see checkpoint()).
 *
 * One process owns the file; within it the session's in-process queue serializes its requests, and
 * every write checks the row's version so a second process on the same file could never lose an
 * update silently.
 */
import fs, { mkdirSync } from 'node:fs';
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

/** WAL size past which the store checkpoints (SQLite's own default is 1,000 pages, ~4 MiB). */
const CHECKPOINT_WAL_BYTES = 4 * 1024 * 1024;

/** A write of a group commit threw (the batch is rolled back and retried with savepoints). */
class WriteFailed extends Error {
  constructor(
    readonly write: PendingWrite,
    override readonly cause: unknown,
  ) {
    super('a write of the batch failed');
  }
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
  /** Stored versions this connection read or wrote (see knownVersion). */
  private readonly versions = new Map<string, number>();
  /** last_used_at as this connection last wrote it (valid like `versions`). */
  private readonly usedAt = new Map<string, number>();
  private dataVersion = -1;
  private dataVersionChecked = false;
  /** Rows in `sessions` as this connection counted and changed them (valid like `versions`). */
  private rows: number | undefined;
  /** Committed writes waiting for the next sync of the WAL (then they are acknowledged). */
  private unsynced: { resolve(): void; reject(e: unknown): void }[] = [];
  private syncing: Promise<void> | undefined;
  private walFd: number | undefined;

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
      if (this.file !== ':memory:') {
        // From here on the store syncs the WAL itself (see the top of this file).
        db.pragma('wal_autocheckpoint = 0');
        db.pragma('synchronous = OFF');
      }
    } catch (e) {
      db.close();
      throw e;
    }
    this.db = db;
    this.dataVersion = (this.sql('PRAGMA data_version').get() as { data_version: number }).data_version;
  }

  /**
   * Group commit: writes requested while the event loop runs are applied together in one SQLite
   * transaction at the next turn — one WAL sync (synchronous=FULL) for all of them. One write that
   * fails is undone alone and only its caller sees the error: the batch first runs without
   * savepoints (two statements per write saved on the common path); if a write throws, the
   * transaction is rolled back and the batch runs again with each write in its own savepoint. Every
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
    let failed = new Map<PendingWrite, unknown>();
    try {
      try {
        this.runBatch(batch, false);
      } catch (e) {
        // Nothing of the batch was kept: what this connection believed it wrote is unknown now.
        this.forget();
        if (!(e instanceof WriteFailed)) throw e;
        if (batch.length === 1) failed.set(e.write, e.cause);
        else failed = this.runBatch(batch, true);
      }
    } catch (e) {
      this.forget();
      for (const w of batch) w.reject(e);
      return;
    }
    for (const w of batch) {
      if (failed.has(w)) w.reject(failed.get(w));
      else this.unsynced.push(w);
    }
    this.startSync();
  }

  /** Resolves once everything committed so far is on disk (a direct write: delete, expire). */
  private synced(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.unsynced.push({ resolve, reject });
      this.startSync();
    });
  }

  /**
   * Sync the WAL for the writes waiting, unless a sync is running: then the next one starts when it
   * ends (writes committed meanwhile wait for that one — a sync covers only what was written before
   * it started). One sync at a time: group commit for the disk as flush() is for SQLite.
   */
  private startSync(): void {
    if (this.syncing || this.unsynced.length === 0) return;
    const waiting = this.unsynced;
    this.unsynced = [];
    if (this.file === ':memory:') {
      for (const w of waiting) w.resolve();
      return;
    }
    this.syncing = new Promise<void>((done) => {
      const settle = (err: unknown): void => {
        for (const w of waiting) {
          if (err) w.reject(err);
          else w.resolve();
        }
        this.syncing = undefined;
        done();
        if (this.unsynced.length > 0) this.startSync();
        else if (!err) this.checkpointIfLarge();
      };
      let fd: number;
      try {
        fd = this.wal();
      } catch (e) {
        settle(e);
        return;
      }
      fs.fdatasync(fd, (err) => settle(err ?? undefined));
    });
  }

  /**
   * The WAL file, kept open (checkpoints truncate it in place); opened again when the file at its
   * path is another one (the last connection to close deletes it, and a new one starts a new file).
   */
  private wal(): number {
    const path = `${this.file}-wal`;
    if (this.walFd !== undefined && fs.fstatSync(this.walFd).ino !== fs.statSync(path).ino) {
      fs.closeSync(this.walFd);
      this.walFd = undefined;
    }
    this.walFd ??= fs.openSync(path, 'r');
    return this.walFd;
  }

  /**
   * Copy the WAL into the database once it passed CHECKPOINT_WAL_BYTES, with synchronous=FULL for the
   * checkpoint (WAL synced before, database synced after, then the WAL truncated), so no frame is
   * dropped from the WAL before its page is on disk in the database. Runs between syncs, on the
   * event loop (a few ms per CHECKPOINT_WAL_BYTES).
   */
  private checkpointIfLarge(): void {
    if (this.walFd === undefined || !this.db || this.db.inTransaction) return;
    if (fs.fstatSync(this.walFd).size < CHECKPOINT_WAL_BYTES) return;
    this.checkpoint();
  }

  private checkpoint(): void {
    const db = this.conn;
    db.pragma('synchronous = FULL');
    try {
      db.pragma('wal_checkpoint(TRUNCATE)');
    } finally {
      db.pragma('synchronous = OFF');
    }
  }

  /** One transaction over `batch`; `isolated`: each write in a savepoint, failures returned, not thrown. */
  private runBatch(batch: readonly PendingWrite[], isolated: boolean): Map<PendingWrite, unknown> {
    const failed = new Map<PendingWrite, unknown>();
    this.sql('BEGIN IMMEDIATE').run();
    try {
      for (const w of batch) {
        if (!isolated) {
          try {
            w.apply();
          } catch (e) {
            throw new WriteFailed(w, e);
          }
          continue;
        }
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
    return failed;
  }

  /** Drop what this connection remembers (versions, row count) once another connection committed. */
  private checkDataVersion(): void {
    if (this.dataVersionChecked) return;
    const dv = this.sql('PRAGMA data_version').get() as { data_version: number };
    if (dv.data_version !== this.dataVersion) {
      this.forget();
      this.dataVersion = dv.data_version;
    }
    this.dataVersionChecked = true;
    setImmediate(() => {
      this.dataVersionChecked = false;
    });
  }

  private forget(): void {
    this.versions.clear();
    this.usedAt.clear();
    this.rows = undefined;
  }

  /**
   * The stored version of `id` as this connection last read or wrote it. Valid while no other
   * connection has committed: SQLite's `PRAGMA data_version` changes exactly then ("changes
   * committed to the database by any other connection"), checked once per event-loop turn; when it
   * moved, everything remembered is dropped and read again. Saves a SELECT per transaction.
   */
  private knownVersion(id: string): number | undefined {
    this.checkDataVersion();
    return this.versions.get(id) ?? this.readVersion(id);
  }

  /** The row's version as stored (remembered), undefined when the row is gone. */
  private readVersion(id: string): number | undefined {
    const v = (this.sql('SELECT version FROM sessions WHERE id = ?').get(id) as { version: number } | undefined)?.version;
    if (v !== undefined) this.versions.set(id, v);
    return v;
  }

  /** A row was deleted by this connection (`gone`: it existed): forget what was remembered of it. */
  private dropped(id: string, gone: boolean): void {
    this.versions.delete(id);
    this.usedAt.delete(id);
    if (gone && this.rows !== undefined) this.rows--;
  }

  insert(s: StoredSession): Promise<void> {
    return this.write(() => {
      this.sql('INSERT INTO sessions (id, owner, created_at, last_used_at, version, event_count, head) VALUES (?, ?, ?, ?, ?, ?, ?)').run(s.id, s.owner, s.createdAt, s.lastUsedAt, s.version, s.events.length, JSON.stringify(s.head));
      this.insertEvents(s.id, 0, s.events, s.version);
      this.versions.set(s.id, s.version);
      this.usedAt.set(s.id, s.lastUsedAt);
      if (this.rows !== undefined) this.rows++;
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
    const gone = this.sql('DELETE FROM sessions WHERE id = ?').run(id).changes > 0;
    this.dropped(id, gone);
    if (gone) await this.synced();
    return gone;
  }

  async ids(owner?: string | null): Promise<string[]> {
    const rows = (owner === undefined
      ? this.sql('SELECT id FROM sessions ORDER BY created_at, id').all()
      : this.sql('SELECT id FROM sessions WHERE owner IS ? ORDER BY created_at, id').all(owner)) as { id: string }[];
    return rows.map((r) => r.id);
  }

  async count(): Promise<number> {
    // count(*) walks the whole table: remembered while no other connection commits (checkDataVersion).
    this.checkDataVersion();
    this.rows ??= (this.sql('SELECT count(*) AS n FROM sessions').get() as { n: number }).n;
    return this.rows;
  }

  async touch(id: string, lastUsedAt: number, minAdvanceMs = 0): Promise<number | undefined> {
    // Nothing to write while last_used_at would move by minAdvanceMs or less and this connection knows
    // the row (no other connection committed since, checkDataVersion): a read then costs no UPDATE.
    this.checkDataVersion();
    const used = this.usedAt.get(id);
    const known = this.versions.get(id);
    if (used !== undefined && known !== undefined && lastUsedAt - used <= minAdvanceMs) return known;
    const r = this.sql('UPDATE sessions SET last_used_at = ? WHERE id = ? AND last_used_at < ? RETURNING version').get(lastUsedAt, id, lastUsedAt - minAdvanceMs) as { version: number } | undefined;
    if (r) {
      this.usedAt.set(id, lastUsedAt);
      this.versions.set(id, r.version);
      return r.version;
    }
    return this.readVersion(id);
  }

  async expire(cutoff: number, keep: ReadonlySet<string>): Promise<string[]> {
    const db = this.conn;
    const run = db.transaction(() => {
      const found = (this.sql('SELECT id FROM sessions WHERE last_used_at < ?').all(cutoff) as { id: string }[]).map((r) => r.id).filter((id) => !keep.has(id));
      const del = this.sql('DELETE FROM sessions WHERE id = ?');
      for (const id of found) this.dropped(id, del.run(id).changes > 0);
      return found;
    });
    let ids: string[];
    try {
      ids = run.immediate();
    } catch (e) {
      this.forget();
      throw e;
    }
    if (ids.length > 0) await this.synced();
    return ids;
  }

  async begin(id: string): Promise<StoreTxn> {
    const version = this.knownVersion(id);
    return {
      version,
      load: () => this.load(id),
      changes: (v, known) => this.changes(id, v, known),
      commit: (w: SessionWrite) =>
        this.write(() => {
          // last_used_at is left alone while it would move less than lastUsedMinAdvanceMs (its index entry is
          // rewritten whenever it moves); the other statement when this connection does not know it.
          const used = this.usedAt.get(id);
          const moveUsed = used === undefined || w.lastUsedAt - used >= (w.lastUsedMinAdvanceMs ?? 0);
          const changed = (
            moveUsed
              ? this.sql('UPDATE sessions SET version = ?, last_used_at = max(last_used_at, ?), event_count = ?, head = ? WHERE id = ? AND version = ?').run(w.version, w.lastUsedAt, w.eventsFrom + w.events.length, JSON.stringify(w.head), id, version ?? -1)
              : this.sql('UPDATE sessions SET version = ?, event_count = ?, head = ? WHERE id = ? AND version = ?').run(w.version, w.eventsFrom + w.events.length, JSON.stringify(w.head), id, version ?? -1)
          ).changes;
          if (changed !== 1) throw new Error(`session ${id} changed or disappeared under its lock`);
          // Stored events past eventsFrom exist only when the log was replaced (then eventsFrom is 0): a
          // commit that appended nothing to the log it had leaves them alone.
          if (w.events.length > 0 || w.eventsFrom === 0) this.sql('DELETE FROM session_events WHERE session_id = ? AND idx >= ?').run(id, w.eventsFrom);
          this.insertEvents(id, w.eventsFrom, w.events, w.version);
          this.versions.set(id, w.version);
          if (moveUsed) this.usedAt.set(id, Math.max(used ?? 0, w.lastUsedAt));
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
    while (this.syncing) await this.syncing;
    if (this.db && this.file !== ':memory:') {
      // Closing checkpoints the WAL into the database: with the syncs of FULL.
      this.db.pragma('synchronous = FULL');
    }
    this.stmts.clear();
    this.db?.close();
    this.db = undefined;
    if (this.walFd !== undefined) fs.closeSync(this.walFd);
    this.walFd = undefined;
  }
}
