/**
 * PostgreSQL store (`pg`), for several replicas sharing one database. One replica at a time runs a
 * session's request: a write transaction takes the session's transaction-scoped advisory lock
 * (PostgreSQL docs §9.27.10, pg_advisory_xact_lock), reads the row's version, and the caller reloads
 * the session when another replica committed a newer one; the write and the lock end with COMMIT.
 * A socket client's sequence holds the session-level advisory lock (pg_advisory_lock) on one
 * connection across its transactions, so no other replica interleaves with a TPM 1.2 SHA-1 thread.
 */
import pg from 'pg';
import { SCHEMA_VERSION, SchemaTooNewError, type SessionStore, type SessionWrite, type StoreLock, type StoreTxn, type StoredChanges, type StoredSession } from './store.js';
import type { SessionHead, SessionLogEvent } from './session.js';

/** Versioned migrations: index i brings the schema from version i to i + 1. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE sessions (
     id TEXT PRIMARY KEY,
     owner TEXT,
     created_at BIGINT NOT NULL,
     last_used_at BIGINT NOT NULL,
     version BIGINT NOT NULL,
     event_count INTEGER NOT NULL,
     head JSONB NOT NULL
   );
   CREATE INDEX sessions_last_used ON sessions (last_used_at);
   CREATE TABLE session_events (
     session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
     idx INTEGER NOT NULL,
     version BIGINT NOT NULL,
     event JSONB NOT NULL,
     PRIMARY KEY (session_id, idx)
   );`,
];

/** The advisory-lock key of a session id: 64 bits of a hash computed by the server. */
const LOCK_KEY = `hashtextextended($1, 0)`;

interface Row {
  id: string;
  owner: string | null;
  created_at: string;
  last_used_at: string;
  version: string;
  head: SessionHead;
}

export interface PgStoreOptions {
  url: string;
  /** Schema holding the tables (created when missing); default public. */
  schema?: string;
  poolMax?: number;
}

/**
 * A checked-out client whose connection breaks emits 'error'; without a listener that would end the
 * process. The query in flight rejects anyway (and the transaction answers 503), so it is ignored here.
 */
const guarded = new WeakSet<pg.PoolClient>();
function guard(c: pg.PoolClient): pg.PoolClient {
  if (!guarded.has(c)) {
    guarded.add(c);
    c.on('error', () => undefined);
  }
  return c;
}

function quoteIdent(s: string): string {
  return `"${s.replace(/"/g, '""')}"`;
}

export class PgSessionStore implements SessionStore {
  readonly driver = 'postgres' as const;
  private readonly pool: pg.Pool;
  private readonly schema: string;

  constructor(opts: PgStoreOptions) {
    this.schema = opts.schema ?? 'public';
    this.pool = new pg.Pool({
      connectionString: opts.url,
      max: opts.poolMax ?? 16,
      connectionTimeoutMillis: 10_000,
      options: `-c search_path=${quoteIdent(this.schema)}`,
    });
    // An idle client whose server went away emits 'error'; the pool drops it, the next query reconnects.
    this.pool.on('error', () => undefined);
  }

  async open(): Promise<void> {
    const c = guard(await this.pool.connect());
    try {
      await c.query('BEGIN');
      await c.query(`SELECT pg_advisory_xact_lock(hashtextextended('tpm-measure schema ' || $1, 0))`, [this.schema]);
      await c.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(this.schema)}`);
      await c.query('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
      const r = await c.query<{ version: number }>('SELECT version FROM schema_version');
      let current = r.rows[0]?.version ?? 0;
      if (r.rows.length === 0) await c.query('INSERT INTO schema_version (version) VALUES (0)');
      if (current > SCHEMA_VERSION) throw new SchemaTooNewError(current, `PostgreSQL schema ${this.schema}`);
      for (; current < SCHEMA_VERSION; current++) {
        await c.query(MIGRATIONS[current] ?? '');
        await c.query('UPDATE schema_version SET version = $1', [current + 1]);
      }
      await c.query('COMMIT');
    } catch (e) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      c.release();
    }
  }

  private static toStored(r: Row, events: SessionLogEvent[]): StoredSession {
    return { id: r.id, owner: r.owner, createdAt: Number(r.created_at), lastUsedAt: Number(r.last_used_at), version: Number(r.version), head: r.head, events };
  }

  private async insertEvents(c: pg.ClientBase, id: string, from: number, events: readonly SessionLogEvent[], version: number): Promise<void> {
    if (events.length === 0) return;
    await c.query('INSERT INTO session_events (session_id, idx, version, event) SELECT $1, $2 + (o - 1), $4, e FROM jsonb_array_elements($3::jsonb) WITH ORDINALITY AS t(e, o)', [id, from, JSON.stringify(events), version]);
  }

  private async readChanges(c: pg.ClientBase, id: string, version: number, known: number): Promise<StoredChanges | undefined> {
    const r = await c.query<Row & { event_count: number }>('SELECT last_used_at, version, event_count, head FROM sessions WHERE id = $1', [id]);
    const row = r.rows[0];
    if (!row) return undefined;
    const ev = await c.query<{ idx: number; event: SessionLogEvent }>('SELECT idx, event FROM session_events WHERE session_id = $1 AND (idx >= $2 OR version > $3) ORDER BY idx', [id, known, version]);
    return { version: Number(row.version), lastUsedAt: Number(row.last_used_at), head: row.head, count: Number(row.event_count), events: ev.rows };
  }

  async changes(id: string, version: number, known: number): Promise<StoredChanges | undefined> {
    return this.inTx(async (c) => {
      await c.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ');
      return this.readChanges(c, id, version, known);
    });
  }

  private async inTx<T>(fn: (c: pg.ClientBase) => Promise<T>): Promise<T> {
    const c = guard(await this.pool.connect());
    try {
      await c.query('BEGIN');
      const r = await fn(c);
      await c.query('COMMIT');
      c.release();
      return r;
    } catch (e) {
      await c.query('ROLLBACK').catch(() => undefined);
      c.release(true);
      throw e;
    }
  }

  async insert(s: StoredSession): Promise<void> {
    await this.inTx(async (c) => {
      await c.query('INSERT INTO sessions (id, owner, created_at, last_used_at, version, event_count, head) VALUES ($1, $2, $3, $4, $5, $6, $7)', [s.id, s.owner, s.createdAt, s.lastUsedAt, s.version, s.events.length, JSON.stringify(s.head)]);
      await this.insertEvents(c, s.id, 0, s.events, s.version);
    });
  }

  private async read(c: pg.ClientBase, id: string): Promise<StoredSession | undefined> {
    const r = await c.query<Row>('SELECT id, owner, created_at, last_used_at, version, head FROM sessions WHERE id = $1', [id]);
    const row = r.rows[0];
    if (!row) return undefined;
    const ev = await c.query<{ event: SessionLogEvent }>('SELECT event FROM session_events WHERE session_id = $1 ORDER BY idx', [id]);
    return PgSessionStore.toStored(row, ev.rows.map((e) => e.event));
  }

  async load(id: string): Promise<StoredSession | undefined> {
    // REPEATABLE READ: the row and its events from one snapshot.
    return this.inTx(async (c) => {
      await c.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ');
      return this.read(c, id);
    });
  }

  async delete(id: string): Promise<boolean> {
    // Under the session's lock: a delete waits for the request another replica is running.
    return this.inTx(async (c) => {
      await c.query(`SELECT pg_advisory_xact_lock(${LOCK_KEY})`, [id]);
      return ((await c.query('DELETE FROM sessions WHERE id = $1', [id])).rowCount ?? 0) > 0;
    });
  }

  async ids(owner?: string | null): Promise<string[]> {
    const r = owner === undefined
      ? await this.pool.query<{ id: string }>('SELECT id FROM sessions ORDER BY created_at, id')
      : await this.pool.query<{ id: string }>('SELECT id FROM sessions WHERE owner IS NOT DISTINCT FROM $1 ORDER BY created_at, id', [owner]);
    return r.rows.map((x) => x.id);
  }

  async count(): Promise<number> {
    return Number((await this.pool.query<{ n: string }>('SELECT count(*) AS n FROM sessions')).rows[0]?.n ?? 0);
  }

  async touch(id: string, lastUsedAt: number, minAdvanceMs = 0): Promise<number | undefined> {
    // One statement: the version, and last_used_at moved only when it is more than minAdvanceMs behind.
    const r = await this.pool.query<{ version: string }>(
      `WITH t AS (UPDATE sessions SET last_used_at = $2 WHERE id = $1 AND last_used_at < $3 RETURNING version)
       SELECT version FROM t UNION ALL SELECT version FROM sessions WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM t)`,
      [id, lastUsedAt, lastUsedAt - minAdvanceMs],
    );
    const v = r.rows[0]?.version;
    return v === undefined ? undefined : Number(v);
  }

  async expire(cutoff: number, keep: ReadonlySet<string>): Promise<string[]> {
    // Only sessions no replica is working on: the advisory lock is tried, never waited for.
    const r = await this.pool.query<{ id: string }>(
      `DELETE FROM sessions WHERE id IN (
         SELECT id FROM sessions WHERE last_used_at < $1 AND NOT (id = ANY($2::text[]))
       ) AND pg_try_advisory_xact_lock(hashtextextended(id, 0)) RETURNING id`,
      [cutoff, [...keep]],
    );
    return r.rows.map((x) => x.id);
  }

  async begin(id: string, lock?: StoreLock): Promise<StoreTxn> {
    const held = lock instanceof PgLock ? lock : undefined;
    const c = held ? held.client : guard(await this.pool.connect());
    let done = false;
    const finish = (broken: boolean): void => {
      done = true;
      if (!held) c.release(broken);
    };
    // Each step is one round trip: the statements go as one simple query with escaped literals.
    const idLit = c.escapeLiteral(id);
    let version: number | undefined;
    try {
      const lockSql = held ? '' : `SELECT pg_advisory_xact_lock(hashtextextended(${idLit}, 0));`;
      const results = (await c.query(`BEGIN;${lockSql}SELECT version FROM sessions WHERE id = ${idLit}`)) as unknown as pg.QueryResult<{ version: string }>[];
      const v = results[results.length - 1]?.rows[0]?.version;
      version = v === undefined ? undefined : Number(v);
    } catch (e) {
      await c.query('ROLLBACK').catch(() => undefined);
      finish(true);
      throw e;
    }
    return {
      version,
      load: () => this.read(c, id),
      changes: (v, known) => this.readChanges(c, id, v, known),
      commit: async (w: SessionWrite) => {
        if (done) throw new Error('transaction already finished');
        try {
          const ints = [w.version, w.lastUsedAt, w.eventsFrom, version ?? -1];
          if (!ints.every(Number.isSafeInteger)) throw new RangeError('non-integer version, time or index');
          // The UPDATE must hit the row at the version read under the lock, or the whole write fails (1 / count(*) divides by zero).
          const sql = [
            `WITH u AS (UPDATE sessions SET version = ${w.version}, last_used_at = GREATEST(last_used_at, ${w.lastUsedAt}), event_count = ${w.eventsFrom + w.events.length}, head = ${c.escapeLiteral(JSON.stringify(w.head))}::jsonb WHERE id = ${idLit} AND version = ${version ?? -1} RETURNING 1) SELECT 1 / count(*) FROM u`,
            `DELETE FROM session_events WHERE session_id = ${idLit} AND idx >= ${w.eventsFrom}`,
            ...(w.events.length > 0 ? [`INSERT INTO session_events (session_id, idx, version, event) SELECT ${idLit}, ${w.eventsFrom} + (o - 1), ${w.version}, e FROM jsonb_array_elements(${c.escapeLiteral(JSON.stringify(w.events))}::jsonb) WITH ORDINALITY AS t(e, o)`] : []),
            'COMMIT',
          ];
          await c.query(sql.join(';\n'));
          finish(false);
        } catch (e) {
          await c.query('ROLLBACK').catch(() => undefined);
          finish(true);
          throw e;
        }
      },
      abort: async () => {
        if (done) return;
        try {
          await c.query('ROLLBACK');
          finish(false);
        } catch {
          finish(true);
        }
      },
    };
  }

  async lock(id: string): Promise<StoreLock> {
    const c = guard(await this.pool.connect());
    try {
      await c.query(`SELECT pg_advisory_lock(${LOCK_KEY})`, [id]);
    } catch (e) {
      c.release(true);
      throw e;
    }
    return new PgLock(c, id);
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

class PgLock implements StoreLock {
  private released = false;
  constructor(
    readonly client: pg.PoolClient,
    private readonly id: string,
  ) {}
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    try {
      await this.client.query(`SELECT pg_advisory_unlock(${LOCK_KEY})`, [this.id]);
      this.client.release();
    } catch {
      // A broken connection drops its session-level locks with it.
      this.client.release(true);
    }
  }
}
