/**
 * The session store drivers (memory, SQLite, PostgreSQL) behind one interface: what a transaction
 * commits is what a fresh process loads; commits are compact (head + new log events); a failed commit
 * is a 503 that leaves the session as it was; a session changed, deleted or expired through another
 * manager (another replica) is reloaded or gone; migrations refuse a newer schema.
 */
import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SessionManager } from '../../src/sessions/manager.js';
import { createStore } from '../../src/sessions/open-store.js';
import type { SessionStore, SessionWrite, StoreTxn } from '../../src/sessions/store.js';
import { MemorySessionStore, SchemaTooNewError } from '../../src/sessions/store.js';
import { resolveSessionOptions } from '../../src/sessions/options.js';
import type { Session } from '../../src/sessions/session.js';
import { measureDigests } from '../../src/measure/measure.js';
import { DomainError } from '../../src/errors.js';
import { blob } from '../support/data.js';
import { pgQuery, postgresReachable, postgresStore, requirePostgres, sqliteStore, type TestStore } from '../support/stores.js';

const limits = { defaultLogSize: 32768, maxLogSize: 16 * 1024 * 1024 };

function measure(s: Session, pcr: number, data: Buffer): ReturnType<typeof measureDigests> {
  const digests = new Map([
    ['sha1', createHash('sha1').update(data).digest()],
    ['sha256', createHash('sha256').update(data).digest()],
  ] as const);
  return measureDigests(s, { pcr, locality: 2, eventType: 0x502, eventData: Buffer.from('m'), hashing: 'host' }, data.length, new Map([...digests].map(([k, v]) => [k, new Uint8Array(v)])));
}

const stripTimes = (s: Session) => {
  const { lastUsedAt: _l, ...rest } = s.snapshot();
  return rest;
};

/** A store wrapper that records writes and can fail the next commit. */
class SpyStore {
  writes: SessionWrite[] = [];
  /** Events each catch-up (`changes`) brought, store-level or under a transaction's lock. */
  caughtUp: number[] = [];
  failNext = false;
  wrap(inner: SessionStore): SessionStore {
    return new Proxy(inner, {
      get: (target, prop, receiver) => {
        if (prop === 'changes') {
          return async (id: string, v: number, known: number) => {
            const c = await target.changes(id, v, known);
            this.caughtUp.push(c?.events.length ?? -1);
            return c;
          };
        }
        if (prop !== 'begin') {
          const v = Reflect.get(target, prop, receiver) as unknown;
          return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
        }
        return async (id: string, lock?: never): Promise<StoreTxn> => {
          const txn = await target.begin(id, lock);
          return {
            get version() {
              return txn.version;
            },
            load: () => txn.load(),
            changes: async (v: number, known: number) => {
              const c = await txn.changes(v, known);
              this.caughtUp.push(c?.events.length ?? -1);
              return c;
            },
            abort: () => txn.abort(),
            commit: async (w: SessionWrite) => {
              this.writes.push(w);
              if (this.failNext) {
                this.failNext = false;
                await txn.abort();
                throw new Error('injected commit failure');
              }
              return txn.commit(w);
            },
          };
        };
      },
    });
  }
}

const drivers: { name: string; make: () => TestStore; skip?: () => boolean }[] = [
  { name: 'memory', make: () => ({ name: 'memory', config: { driver: 'memory' }, env: {}, cleanup: async () => undefined }) },
  { name: 'sqlite', make: sqliteStore },
  { name: 'postgres', make: postgresStore, skip: () => !requirePostgres('session store: PostgreSQL driver') },
];

for (const driver of drivers) {
  const skip = driver.skip?.() ?? false;
  describe.skipIf(skip)(`session store: ${driver.name}`, () => {
    const open: SessionStore[] = [];
    const temps: TestStore[] = [];
    afterEach(async () => {
      for (const s of open.splice(0)) await s.close().catch(() => undefined);
      for (const t of temps.splice(0)) await t.cleanup();
    });
    /** One test store; `replicas` managers (separate connections) on it, sharing rows. */
    async function setup(replicas = 1, ttlMs = 3_600_000, now?: () => number): Promise<{ managers: SessionManager[]; stores: SessionStore[]; spy: SpyStore; t: TestStore }> {
      const t = driver.make();
      temps.push(t);
      const spy = new SpyStore();
      const shared = driver.name === 'memory' ? new MemorySessionStore() : undefined;
      const stores: SessionStore[] = [];
      const managers: SessionManager[] = [];
      for (let i = 0; i < replicas; i++) {
        const raw = shared ?? createStore(t.config);
        await raw.open();
        if (!shared || i === 0) open.push(raw);
        const store = spy.wrap(raw);
        stores.push(store);
        managers.push(new SessionManager(store, { ttlMs, maxSessions: 100, ...(now ? { now } : {}) }));
      }
      return { managers, stores, spy, t };
    }

    it('what a transaction committed is what another process loads, byte for byte (TPM 1.2 and 2.0)', async () => {
      const { managers, stores } = await setup(1);
      const m = managers[0]!;
      for (const family of ['1.2', '2.0'] as const) {
        const s = await m.create(resolveSessionOptions({ family }, limits));
        for (let i = 0; i < 5; i++) await s.transact(() => measure(s, 17 + (i % 2), blob(100 + i, i)));
        // A fresh manager over a fresh connection = a restarted process.
        const again = driver.name === 'memory' ? stores[0]! : createStore(temps[0]!.config);
        if (again !== stores[0]) {
          await again.open();
          open.push(again);
        }
        const m2 = new SessionManager(again, { ttlMs: 3_600_000, maxSessions: 100 });
        const loaded = await m2.get(s.id);
        expect(stripTimes(loaded)).toEqual(stripTimes(s));
        expect(loaded.log.bytes()).toEqual(s.log.bytes());
        expect(loaded.engine.pcrs()).toEqual(s.engine.pcrs());
      }
    });

    it('a commit writes the head and the new events only: 32 KiB log, 3 events, a few KiB per write', async () => {
      const { managers, spy } = await setup(1);
      const s = await managers[0]!.create(resolveSessionOptions({ family: '2.0', logSize: 1024 * 1024 }, limits));
      for (let i = 0; i < 40; i++) await s.transact(() => measure(s, 18, blob(50, i)));
      expect(spy.writes).toHaveLength(40);
      spy.writes.forEach((w, i) => {
        expect(w.eventsFrom).toBe(i);
        expect(w.events).toHaveLength(1);
        expect(w.head.log.events).toEqual([]);
        expect(JSON.stringify(w.head).length).toBeLessThan(16 * 1024);
      });
      // The head does not grow with the history.
      expect(JSON.stringify(spy.writes[39]!.head).length - JSON.stringify(spy.writes[0]!.head).length).toBeLessThan(64);
    });

    it('a failed commit is a 503 store-unavailable and leaves the session as it was, in memory and stored', async () => {
      const { managers, stores, spy } = await setup(1);
      const m = managers[0]!;
      const s = await m.create(resolveSessionOptions({ family: '1.2' }, limits));
      await s.transact(() => measure(s, 18, blob(10, 1)));
      const before = stripTimes(s);
      spy.failNext = true;
      const err = await s.transact(() => measure(s, 18, blob(10, 2))).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DomainError);
      expect((err as DomainError).kind).toBe('store-unavailable');
      expect((err as DomainError).status).toBe(503);
      expect(stripTimes(s)).toEqual(before);
      const stored = await stores[0]!.load(s.id);
      expect(stored!.events).toHaveLength(1);
      // The next transaction works and is stored.
      await s.transact(() => measure(s, 18, blob(10, 3)));
      expect((await stores[0]!.load(s.id))!.events).toHaveLength(2);
    });

    it('a transaction that throws commits nothing', async () => {
      const { managers, spy } = await setup(1);
      const s = await managers[0]!.create(resolveSessionOptions({ family: '2.0' }, limits));
      const before = stripTimes(s);
      await expect(s.transact(() => {
        measure(s, 18, blob(10, 1));
        throw new RangeError('refused');
      })).rejects.toThrow('refused');
      expect(spy.writes).toHaveLength(0);
      expect(stripTimes(s)).toEqual(before);
    });

    it('two managers on one store (two replicas): each sees the other\'s commits; a delete on one is a 404 on the other', async () => {
      const { managers } = await setup(2);
      const [a, b] = managers as [SessionManager, SessionManager];
      const sa = await a.create(resolveSessionOptions({ family: '1.2' }, limits));
      const sb = await b.get(sa.id);
      await sa.transact(() => measure(sa, 17, blob(10, 1)));
      await sb.transact(() => measure(sb, 17, blob(10, 2)));
      await sa.transact(() => measure(sa, 17, blob(10, 3)));
      await sb.read(() => undefined);
      expect(sb.engine.pcrs()).toEqual(sa.engine.pcrs());
      expect(sb.log.bytes()).toEqual(sa.log.bytes());
      expect(sa.log.events()).toHaveLength(3);
      await a.delete(sa.id);
      await expect(sb.transact(() => measure(sb, 17, blob(1, 1)))).rejects.toMatchObject({ kind: 'session-not-found' });
      await expect(b.get(sa.id)).rejects.toMatchObject({ kind: 'session-not-found' });
    });

    it('a replica catches up with what changed only: after 30 events on A, one more costs B one event', async () => {
      const { managers, spy } = await setup(2);
      const [a, b] = managers as [SessionManager, SessionManager];
      for (const family of ['1.2', '2.0'] as const) {
        const sa = await a.create(resolveSessionOptions({ family }, limits));
        for (let i = 0; i < 30; i++) await sa.transact(() => measure(sa, 18, blob(20, i)));
        const sb = await b.get(sa.id);
        spy.caughtUp.length = 0;
        await sa.transact(() => measure(sa, 17, blob(20, 99)));
        await sb.read(() => undefined);
        expect(spy.caughtUp).toEqual([1]);
        // B is up to date for its own transaction; A then catches up with B's one event.
        await sb.transact(() => measure(sb, 18, blob(20, 100)));
        await sa.transact(() => measure(sa, 18, blob(20, 101)));
        expect(spy.caughtUp).toEqual([1, 1]);
        await sb.read(() => undefined);
        expect(sb.log.bytes()).toEqual(sa.log.bytes());
        expect(sb.engine.pcrs()).toEqual(sa.engine.pcrs());
        expect(stripTimes(sb)).toEqual(stripTimes(sa));
      }
    });

    it('idle expiry deletes the rows (SESSION_TTL_SECONDS)', async () => {
      let now = 1_000_000;
      const { managers, stores } = await setup(1, 1000, () => now);
      const m = managers[0]!;
      const s = await m.create(resolveSessionOptions({ family: '1.2' }, limits));
      await s.transact(() => measure(s, 18, blob(10, 1)));
      const keep = await m.create(resolveSessionOptions({ family: '1.2' }, limits));
      now += 600;
      await m.get(keep.id);
      await keep.read(() => undefined);
      now += 600;
      expect(await m.sweep()).toBe(1);
      expect(await stores[0]!.load(s.id)).toBeUndefined();
      expect(await stores[0]!.count()).toBe(1);
      await expect(m.get(s.id)).rejects.toMatchObject({ kind: 'session-not-found' });
    });

    if (driver.name !== 'postgres') {
      // (PostgreSQL: the second begin would wait for the first one's lock; the replica test covers it.)
      it('a write from a stale version is refused, never applied over a newer one', async () => {
        const { managers, stores } = await setup(1);
        const s = await managers[0]!.create(resolveSessionOptions({ family: '1.2' }, limits));
        const w = { lastUsedAt: 1, head: s.head(), eventsFrom: 0, events: [] };
        const t1 = await stores[0]!.begin(s.id);
        const t2 = await stores[0]!.begin(s.id);
        await t1.commit({ ...w, version: 2 });
        await expect(t2.commit({ ...w, version: 2 })).rejects.toThrow(/changed or disappeared/);
        expect((await stores[0]!.load(s.id))!.version).toBe(2);
      });
    }

    if (driver.name !== 'memory') {
      it('migrations: a second start is a no-op; a schema newer than this build is refused with a clear message', async () => {
        const { t } = await setup(1);
        const again = createStore(t.config);
        await again.open();
        await again.close();
        if (t.config.driver === 'sqlite') {
          const db = new Database(join(t.config.dataDir, 'sessions.sqlite'));
          db.pragma('user_version = 99');
          db.close();
        } else if (t.config.driver === 'postgres') {
          await pgQuery(`UPDATE "${t.config.schema}".schema_version SET version = 99`);
        }
        const newer = createStore(t.config);
        const err = await newer.open().catch((e: unknown) => e);
        expect(err).toBeInstanceOf(SchemaTooNewError);
        expect((err as Error).message).toMatch(/schema version 99, newer than 1/);
        await newer.close().catch(() => undefined);
      });
    }
  });
}

describe('PostgreSQL availability check', () => {
  it('in CI the PostgreSQL suites cannot be skipped', () => {
    if (process.env.CI === 'true') expect(postgresReachable()).toBe(true);
  });
});
