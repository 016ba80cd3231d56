/**
 * Session lifecycle: creation with a capacity limit, idle expiry, lookup, and the durable store
 * behind them. Sessions in use are cached in memory (one object per session per replica, with its
 * in-process queue); the store is the truth: every transaction locks the session's row, reloads it
 * when another replica committed a newer version, and commits before its response. No HTTP here.
 */
import { randomBytesPooled } from '../bytes/random.js';
import { DomainError } from '../errors.js';
import { Session, type SessionHead, type SessionLogEvent, type SessionObserver, type SessionOptions, type SessionPersistence, type SessionPersistTxn, type SessionStoreLock } from './session.js';
import type { SessionStore, StoreLock, StoredChanges, StoredSession } from './store.js';
import { reserveMemory } from './memory.js';

export interface SessionManagerOptions {
  ttlMs: number;
  maxSessions: number;
  /** Most sessions one owner (API key) may hold at once; owner null (no keys) is not limited by it. */
  maxSessionsPerOwner?: number;
  /** Told about the TPM commands the sessions run (metrics). */
  observer?: SessionObserver;
  now?: () => number;
  /** Called with the time a store commit took (ms), for metrics. */
  onCommit?: (ms: number) => void;
}

/** What a fresh session costs before its log grows (TPM state, TIS, queue, first log pages). */
const SESSION_BASE_BYTES = 64 * 1024;

/** The state a new session starts from (a restored snapshot or a fork), instead of a fresh TPM. */
export interface SessionStart {
  head: SessionHead;
  events: SessionLogEvent[];
}

/** 128 random bits, base64url: URL-safe and unguessable. */
export function newSessionId(): string {
  return randomBytesPooled(16).toString('base64url');
}

function notFound(id: string): DomainError {
  return new DomainError('session-not-found', `session ${JSON.stringify(id)} does not exist or has expired`);
}

/** The store did not answer or refused a write: 503, the session is as it was. */
export function storeUnavailable(e: unknown): DomainError {
  if (e instanceof DomainError) return e;
  return new DomainError('store-unavailable', 'the session store did not complete the operation; nothing was changed, retry later', {}, 1);
}

async function guard<T>(p: () => Promise<T>): Promise<T> {
  try {
    return await p();
  } catch (e) {
    throw storeUnavailable(e);
  }
}

export class SessionManager {
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  /** Sessions this replica has in memory. */
  private readonly cache = new Map<string, Session>();
  /** Loads under way (two requests for an uncached session share one load). */
  private readonly loading = new Map<string, Promise<Session | undefined>>();
  private readonly persistence: SessionPersistence;

  constructor(
    readonly store: SessionStore,
    private readonly opts: SessionManagerOptions,
  ) {
    this.now = opts.now ?? Date.now;
    this.persistence = this.makePersistence();
  }

  private makePersistence(): SessionPersistence {
    const store = this.store;
    const gone = (s: Session): DomainError => {
      this.evict(s);
      return notFound(s.id);
    };
    /**
     * Bring `s` up to the stored version: only what changed since the version it holds when it holds
     * one (the cost of what another replica did, not of the history), else the whole session.
     */
    const bringUp = async (s: Session, changes: (v: number, known: number) => Promise<StoredChanges | undefined>, whole: () => Promise<StoredSession | undefined>): Promise<void> => {
      if (s.storedVersion > 0) {
        const c = await guard(() => changes(s.storedVersion, s.log.eventCount));
        if (!c) throw gone(s);
        if (s.applyChanges(c.head, c.events, c.count, c.version, c.lastUsedAt)) return;
      }
      const stored = await guard(whole);
      if (!stored) throw gone(s);
      s.load(stored.head, stored.events, stored.version, stored.lastUsedAt);
    };
    return {
      begin: async (s: Session, lock?: SessionStoreLock): Promise<SessionPersistTxn> => {
        const txn = await guard(() => store.begin(s.id, lock as StoreLock | undefined));
        try {
          if (txn.version === undefined) throw gone(s);
          if (txn.version !== s.storedVersion) await bringUp(s, (v, known) => txn.changes(v, known), () => txn.load());
        } catch (e) {
          await txn.abort().catch(() => undefined);
          throw e;
        }
        return {
          commit: async (eventsFrom: number) => {
            const t0 = performance.now();
            try {
              await txn.commit({ version: s.storedVersion + 1, lastUsedAt: s.lastUsedAt, lastUsedMinAdvanceMs: this.touchStepMs(), head: s.head(), eventsFrom, events: s.logEvents(eventsFrom) });
            } catch (e) {
              // The outcome may be unknown (a connection lost at COMMIT): reload before the next use.
              s.storedVersion = -1;
              throw storeUnavailable(e);
            }
            s.storedVersion++;
            this.opts.onCommit?.(performance.now() - t0);
          },
          abort: () => txn.abort().catch(() => undefined),
        };
      },
      refresh: async (s: Session): Promise<void> => {
        const version = await guard(() => store.touch(s.id, s.lastUsedAt, this.touchStepMs()));
        if (version === undefined) throw gone(s);
        if (version !== s.storedVersion) await bringUp(s, (v, known) => store.changes(s.id, v, known), () => store.load(s.id));
      },
      lock: (s: Session) => guard(() => store.lock(s.id)),
    };
  }

  /** How far last-used times may lag in the store: a twentieth of the TTL, at most a minute. */
  private touchStepMs(): number {
    return Math.min(60_000, Math.floor(this.opts.ttlMs / 20));
  }

  private adopt(session: Session): Session {
    session.persistence = this.persistence;
    if (this.opts.observer) session.observer = this.opts.observer;
    this.cache.set(session.id, session);
    return session;
  }

  /** Drop a session from this replica's memory and run its close hooks (socket listeners, …). */
  private evict(s: Session): void {
    if (this.cache.get(s.id) === s) this.cache.delete(s.id);
    s.close();
  }

  /**
   * A new session owned by `owner` (an API key's id; null when the service runs without keys),
   * fresh or starting from `from` (a restored snapshot, a fork). Stored before it is returned.
   */
  async create(options: SessionOptions, owner: string | null = null, from?: SessionStart): Promise<Session> {
    // Expired sessions are swept by the timer; here only when they stand in the way (a sweep is O(sessions)).
    let n = await guard(() => this.store.count());
    if (n >= this.opts.maxSessions) {
      await this.sweep();
      n = await guard(() => this.store.count());
    }
    if (n >= this.opts.maxSessions) {
      throw new DomainError(
        'too-many-sessions',
        `the service holds its maximum of ${this.opts.maxSessions} sessions; delete one or retry later`,
        { maxSessions: this.opts.maxSessions },
        this.nextExpiryMs() / 1000,
      );
    }
    const perOwner = this.opts.maxSessionsPerOwner;
    if (owner !== null && perOwner !== undefined && (await guard(() => this.store.ids(owner))).length >= perOwner) {
      throw new DomainError(
        'too-many-sessions',
        `this API key holds its maximum of ${perOwner} sessions (MAX_SESSIONS_PER_KEY); delete one or retry later`,
        { maxSessionsPerKey: perOwner },
        this.nextExpiryMs(owner) / 1000,
      );
    }
    reserveMemory(SESSION_BASE_BYTES, 'a new session');
    const session = new Session(newSessionId(), options, this.now(), owner);
    if (from) session.load(from.head, from.events, 0, session.createdAt);
    session.storedVersion = 1;
    await guard(() =>
      this.store.insert({ id: session.id, owner, createdAt: session.createdAt, lastUsedAt: session.lastUsedAt, version: 1, head: session.head(), events: session.logEvents(0) }),
    );
    return this.adopt(session);
  }

  private async fetch(id: string): Promise<Session | undefined> {
    const cached = this.cache.get(id);
    if (cached) return cached;
    let p = this.loading.get(id);
    if (!p) {
      p = (async () => {
        const stored = await guard(() => this.store.load(id));
        if (!stored) return undefined;
        const again = this.cache.get(id);
        if (again) return again;
        let s: Session;
        try {
          s = Session.restore({ version: 1, id: stored.id, createdAt: stored.createdAt, lastUsedAt: stored.lastUsedAt, owner: stored.owner, ...stored.head, log: { ...stored.head.log, events: stored.events } as SessionHead['log'] });
        } catch (e) {
          throw new DomainError('internal', `session ${JSON.stringify(id)} is stored in a form this build cannot read: ${(e as Error).message}`);
        }
        s.storedVersion = stored.version;
        return this.adopt(s);
      })();
      this.loading.set(id, p);
      void p.finally(() => this.loading.delete(id)).catch(() => undefined);
    }
    return p;
  }

  /**
   * Look a session up and mark it used; unknown, expired or owned by another key → 404 (a foreign
   * session is indistinguishable from one that does not exist). `owner` undefined = any owner.
   */
  async get(id: string, owner?: string | null): Promise<Session> {
    const s = await this.fetch(id);
    if (!s || (owner !== undefined && s.owner !== owner)) throw notFound(id);
    if (this.expired(s)) {
      // Another replica may have used it since: the store decides.
      const stored = await guard(() => this.store.load(id));
      if (stored && stored.lastUsedAt + this.opts.ttlMs > this.now()) s.lastUsedAt = Math.max(s.lastUsedAt, stored.lastUsedAt);
      else {
        if (stored) await guard(() => this.store.delete(id));
        this.evict(s);
        throw notFound(id);
      }
    }
    s.touch(this.now());
    return s;
  }

  async delete(id: string, owner?: string | null): Promise<void> {
    const s = await this.fetch(id);
    if (!s || (owner !== undefined && s.owner !== owner)) throw notFound(id);
    const deleted = await guard(() => this.store.delete(id));
    this.evict(s);
    if (!deleted) throw notFound(id);
  }

  /** Live sessions, only those of `owner` when given. */
  async list(owner?: string | null): Promise<Session[]> {
    await this.sweep();
    const ids = await guard(() => this.store.ids(owner));
    const out: Session[] = [];
    for (const id of ids) {
      const s = await this.fetch(id).catch(() => undefined);
      if (s && !s.isClosed) out.push(s);
    }
    return out;
  }

  /** Requests queued or running on the sessions this replica holds. */
  queued(): number {
    let n = 0;
    for (const s of this.cache.values()) n += s.queue.size;
    return n;
  }

  /** Sessions in the store. */
  count(): Promise<number> {
    return guard(() => this.store.count());
  }

  expiresAt(s: Session): number {
    return s.lastUsedAt + this.opts.ttlMs;
  }

  private expired(s: Session): boolean {
    return this.now() >= this.expiresAt(s) && s.queue.size === 0;
  }

  private nextExpiryMs(owner?: string | null): number {
    let min = this.opts.ttlMs;
    for (const s of this.cache.values()) if (owner === undefined || s.owner === owner) min = Math.min(min, this.expiresAt(s) - this.now());
    return Math.max(0, min);
  }

  /** Whether the store answers within `timeoutMs` (GET /readyz). */
  async ready(timeoutMs = 2000): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
      timer.unref();
    });
    try {
      return await Promise.race([this.store.ping().then(() => true), late]);
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Delete every idle session past its TTL (rows included); forget cached ones idle that long. */
  async sweep(): Promise<number> {
    const keep = new Set<string>();
    for (const s of this.cache.values()) if (!this.expired(s)) keep.add(s.id);
    const ids = await guard(() => this.store.expire(this.now() - this.opts.ttlMs, keep));
    for (const id of ids) {
      const s = this.cache.get(id);
      if (s) this.evict(s);
    }
    for (const s of [...this.cache.values()]) if (this.expired(s)) this.evict(s);
    return ids.length;
  }

  startSweeper(intervalMs = Math.min(60_000, Math.max(1000, Math.floor(this.opts.ttlMs / 4)))): void {
    this.stopSweeper();
    this.timer = setInterval(() => void this.sweep().catch(() => undefined), intervalMs);
    this.timer.unref();
  }

  stopSweeper(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
