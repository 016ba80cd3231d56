/**
 * Session lifecycle: creation with a capacity limit, idle expiry, lookup. No HTTP here.
 */
import { randomBytesPooled } from '../bytes/random.js';
import { DomainError } from '../errors.js';
import { Session, type SessionOptions } from './session.js';
import type { SessionStore } from './store.js';

export interface SessionManagerOptions {
  ttlMs: number;
  maxSessions: number;
  now?: () => number;
}

/** 128 random bits, base64url: URL-safe and unguessable. */
export function newSessionId(): string {
  return randomBytesPooled(16).toString('base64url');
}

export class SessionManager {
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: SessionStore,
    private readonly opts: SessionManagerOptions,
  ) {
    this.now = opts.now ?? Date.now;
  }

  /** A new session owned by `owner` (an API key's id; null when the service runs without keys). */
  create(options: SessionOptions, owner: string | null = null): Session {
    // Expired sessions are swept by the timer; here only when they stand in the way (a sweep is O(sessions)).
    if (this.store.size >= this.opts.maxSessions) this.sweep();
    if (this.store.size >= this.opts.maxSessions) {
      throw new DomainError(
        'too-many-sessions',
        `the service holds its maximum of ${this.opts.maxSessions} sessions; delete one or retry later`,
        { maxSessions: this.opts.maxSessions },
        this.nextExpiryMs() / 1000,
      );
    }
    const session = new Session(newSessionId(), options, this.now(), owner);
    this.store.put(session);
    return session;
  }

  /**
   * Look a session up and mark it used; unknown, expired or owned by another key → 404 (a foreign
   * session is indistinguishable from one that does not exist). `owner` undefined = any owner.
   */
  get(id: string, owner?: string | null): Session {
    const s = this.store.get(id);
    if (!s || this.expired(s) || (owner !== undefined && s.owner !== owner)) {
      if (s && this.expired(s)) this.remove(s);
      throw new DomainError('session-not-found', `session ${JSON.stringify(id)} does not exist or has expired`);
    }
    s.touch(this.now());
    return s;
  }

  delete(id: string, owner?: string | null): void {
    const s = this.store.get(id);
    if (!s || (owner !== undefined && s.owner !== owner) || !this.store.delete(id)) {
      throw new DomainError('session-not-found', `session ${JSON.stringify(id)} does not exist or has expired`);
    }
    s.close();
  }

  /** Drop a session from the store and run its close hooks (socket listeners, …). */
  private remove(s: Session): void {
    this.store.delete(s.id);
    s.close();
  }


  /** Live sessions, only those of `owner` when given. */
  list(owner?: string | null): Session[] {
    this.sweep();
    const all = this.store.list();
    return owner === undefined ? all : all.filter((s) => s.owner === owner);
  }

  expiresAt(s: Session): number {
    return s.lastUsedAt + this.opts.ttlMs;
  }

  private expired(s: Session): boolean {
    return this.now() >= this.expiresAt(s) && s.queue.size === 0;
  }

  private nextExpiryMs(): number {
    let min = this.opts.ttlMs;
    for (const s of this.store.list()) min = Math.min(min, this.expiresAt(s) - this.now());
    return min;
  }

  /** Delete every idle session past its TTL. */
  sweep(): number {
    let n = 0;
    for (const s of this.store.list()) {
      if (this.expired(s)) {
        this.remove(s);
        n++;
      }
    }
    return n;
  }

  startSweeper(intervalMs = Math.min(60_000, Math.max(1000, Math.floor(this.opts.ttlMs / 4)))): void {
    this.stopSweeper();
    this.timer = setInterval(() => this.sweep(), intervalMs);
    this.timer.unref();
  }

  stopSweeper(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
