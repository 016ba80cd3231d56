/**
 * Session lifecycle: creation with a capacity limit, idle expiry, lookup. No HTTP here.
 */
import { randomBytes } from 'node:crypto';
import { DomainError } from '../errors.js';
import { Session, type SessionObserver, type SessionOptions } from './session.js';
import type { SessionStore } from './store.js';
import { reserveMemory } from './memory.js';

export interface SessionManagerOptions {
  ttlMs: number;
  maxSessions: number;
  /** Most sessions one owner (API key) may hold at once; owner null (no keys) is not limited by it. */
  maxSessionsPerOwner?: number;
  /** Told about the TPM commands the sessions run (metrics). */
  observer?: SessionObserver;
  now?: () => number;
}

/** What a fresh session costs before its log grows (TPM state, TIS, queue, first log pages). */
const SESSION_BASE_BYTES = 64 * 1024;

/** 128 random bits, base64url: URL-safe and unguessable. */
export function newSessionId(): string {
  return randomBytes(16).toString('base64url');
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
    this.sweep();
    if (this.store.size >= this.opts.maxSessions) {
      throw new DomainError(
        'too-many-sessions',
        `the service holds its maximum of ${this.opts.maxSessions} sessions; delete one or retry later`,
        { maxSessions: this.opts.maxSessions },
        this.nextExpiryMs() / 1000,
      );
    }
    const perOwner = this.opts.maxSessionsPerOwner;
    if (owner !== null && perOwner !== undefined && this.list(owner).length >= perOwner) {
      throw new DomainError(
        'too-many-sessions',
        `this API key holds its maximum of ${perOwner} sessions (MAX_SESSIONS_PER_KEY); delete one or retry later`,
        { maxSessionsPerKey: perOwner },
        this.nextExpiryMs(owner) / 1000,
      );
    }
    reserveMemory(SESSION_BASE_BYTES, 'a new session');
    const session = new Session(newSessionId(), options, this.now(), owner);
    if (this.opts.observer) session.observer = this.opts.observer;
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
    if (this.opts.observer) s.observer = this.opts.observer;
    return s;
  }

  /** Whether the store answers (GET /readyz); a store without a check is always ready. */
  async ready(): Promise<boolean> {
    try {
      return this.store.ready ? await this.store.ready() : true;
    } catch {
      return false;
    }
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

  private nextExpiryMs(owner?: string | null): number {
    let min = this.opts.ttlMs;
    for (const s of this.store.list()) if (owner === undefined || s.owner === owner) min = Math.min(min, this.expiresAt(s) - this.now());
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
