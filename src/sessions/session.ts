/**
 * A session owns one emulated TPM (TPM 1.2 or TPM 2.0), the TIS/PTP register interface in front of
 * it, and the DRTM event log the seed would keep for it (TXT event container for TPM 1.2;
 * TCG crypto-agile log for TPM 2.0, see src/eventlog/README.md). State serializes to plain data.
 */
import type { BankName } from '../hash/index.js';
import type { TpmEngine, TpmFamily } from '../tpm/engine.js';
import { createEngine, restoreEngine } from '../tpm/factory.js';
import { observedEngine } from '../tpm/observed.js';
import { TisDevice, type TisProfile } from '../tis/index.js';
import { TxtContainerLog, type TxtContainerSnapshot } from '../eventlog/txt-container.js';
import { Tcg2Log, type Tcg2LogSnapshot } from '../eventlog/tcg2.js';
import { SerialQueue } from './queue.js';
import { reserveMemory } from './memory.js';
import { fromHex } from '../bytes/index.js';

export type Compat = 'xen' | 'strict';

export interface SessionOptions {
  family: TpmFamily;
  /** Startup(CLEAR) already done (swtpm --flags startup-clear). */
  startup: boolean;
  /** SLRT log size in bytes. */
  logSize: number;
  compat: Compat;
  /** TPM 2.0: allocated PCR banks. TPM 1.2: always ['sha1']. */
  banks: BankName[];
  tisProfile: TisProfile;
  /** Register-level options of the TIS (DID_VID, RID, burstCount maximum); defaults as QEMU. */
  tis?: { didVid?: number; rid?: number; burstMax?: number };
}

export type SessionLog = TxtContainerLog | Tcg2Log;

/** Told about every TPM command a session's engine executes, whatever sent it (metrics). */
export interface SessionObserver {
  command(family: TpmFamily, rc: number): void;
}

export interface TransactOptions {
  /** Abort the transaction's signal after this many milliseconds. */
  timeoutMs?: number;
}

/** The reason a transaction's signal fired: it ran past its time limit. */
export class TransactionTimeout extends Error {
  constructor(readonly timeoutMs: number) {
    super(`the request did not complete within ${timeoutMs} ms`);
    this.name = 'TransactionTimeout';
  }
}

/** The session's turn, held across transactions (Session.lease). */
export interface SessionLease {
  released: boolean;
  transact<T>(fn: () => Promise<T> | T): Promise<T>;
  release(): void;
}

export interface SessionCheckpoint {
  engine: unknown;
  tis: unknown;
  log: TxtContainerSnapshot | Tcg2LogSnapshot;
  logFull: boolean;
  measurements: number;
  /**
   * Successful PCR extends that came in as raw TPM commands (socket data channel or HTTP
   * /commands) and so are in no log: TPM_Extend, TPM_SHA1CompleteExtend, TPM2_PCR_Extend,
   * TPM2_PCR_Event, TPM2_EventSequenceComplete (a real TPM does not log either).
   */
  extendsOutsideLog: number;
}

/** One log event as plain data (the `events` element of the log's snapshot). */
export type SessionLogEvent = TxtContainerSnapshot['events'][number] | Tcg2LogSnapshot['events'][number];

/**
 * Everything of a session but its log events, as plain data: what a durable store rewrites on every
 * commit (a few KiB whatever the session's history); the events are stored one row each, append-only.
 */
export interface SessionHead extends Omit<SessionCheckpoint, 'log'> {
  options: SessionOptions;
  /** The log's snapshot with `events: []`. */
  log: TxtContainerSnapshot | Tcg2LogSnapshot;
}

/**
 * The cross-replica side of a session's turn, installed by the session manager when a durable store
 * is configured: `begin` takes the session's store lock and brings the in-memory state up to the
 * stored one; the transaction's `commit` writes what changed before the response is sent.
 */
export interface SessionPersistence {
  begin(session: Session, lock?: SessionStoreLock): Promise<SessionPersistTxn>;
  /** Before a read: bring the session up to the stored state (and mark it used). */
  refresh(session: Session): Promise<void>;
  /** Hold the session's store lock across several transactions (Session.lease). */
  lock(session: Session): Promise<SessionStoreLock>;
}

export interface SessionPersistTxn {
  /** Write the session; log events from index `eventsFrom` on are new or changed. */
  commit(eventsFrom: number): Promise<void>;
  abort(): Promise<void>;
}

export interface SessionStoreLock {
  release(): Promise<void>;
}

/** A whole session as plain JSON-able data (what a durable store keeps). */
export interface SessionSnapshot extends SessionCheckpoint {
  version: 1;
  id: string;
  options: SessionOptions;
  createdAt: number;
  lastUsedAt: number;
  /** Who owns the session (an API key's id), or null when the service runs without keys. */
  owner?: string | null;
}

/** The signal of a transaction without a time limit: never fires. */
const NEVER: AbortSignal = new AbortController().signal;

const logGrowth = (bytes: number): void => reserveMemory(bytes, 'the event log');

function logFromJSON(snapshot: TxtContainerSnapshot | Tcg2LogSnapshot): SessionLog {
  return snapshot.kind === 'txt-container' ? TxtContainerLog.fromJSON(snapshot) : Tcg2Log.fromJSON(snapshot);
}

function newLog(opts: SessionOptions): SessionLog {
  if (opts.family === '1.2') return new TxtContainerLog({ size: opts.logSize, onGrow: logGrowth });
  return new Tcg2Log({ banks: opts.banks, size: opts.logSize, onGrow: logGrowth });
}

export class Session {
  readonly queue = new SerialQueue();
  engine: TpmEngine;
  tis: TisDevice;
  log: SessionLog;
  /** strict mode: set once an event did not fit; nothing is logged after it. */
  logFull = false;
  measurements = 0;
  extendsOutsideLog = 0;
  lastUsedAt: number;
  /** Set by the session manager; not part of the session's state. */
  observer: SessionObserver | undefined;
  private readonly closeHooks = new Set<() => void>();
  private closed = false;
  /** Set by the session manager when a durable store keeps the session. */
  persistence: SessionPersistence | undefined;
  /** Version of the stored row the in-memory state equals (-1: unknown, reload before use). */
  storedVersion = 0;
  /**
   * The counters as of the last completed (committed) transaction: what a view read outside the
   * session's turn shows, so that it never sees a transaction still running.
   */
  committed: { measurements: number; extendsOutsideLog: number; logFull: boolean } = { measurements: 0, extendsOutsideLog: 0, logFull: false };

  constructor(
    readonly id: string,
    readonly options: SessionOptions,
    readonly createdAt: number,
    /** Who owns the session (an API key's id); null when the service runs without keys. */
    readonly owner: string | null = null,
  ) {
    this.lastUsedAt = createdAt;
    this.engine = this.observed(createEngine(options.family, { startup: options.startup, banks: options.banks }));
    this.tis = this.newTis();
    this.log = newLog(options);
  }

  /** The engine as the session uses it: every command is reported to the observer, when there is one. */
  private observed(engine: TpmEngine): TpmEngine {
    return observedEngine(engine, (family, rc) => this.observer?.command(family, rc));
  }

  private newTis(engine: TpmEngine = this.engine): TisDevice {
    return new TisDevice(engine, { ...(this.options.tis ?? {}), profile: this.options.tisProfile });
  }

  /**
   * The TPM rebuilt from an engine snapshot (reporting to the observer like the original) and the TIS
   * in front of it with its register state restored; built whole before the caller swaps them in.
   */
  private rebuild(engineSnapshot: unknown, tisSnapshot: unknown): { engine: TpmEngine; tis: TisDevice } {
    const engine = this.observed(restoreEngine(this.options.family, engineSnapshot));
    const tis = this.newTis(engine);
    tis.restore(tisSnapshot as ReturnType<TisDevice['snapshot']>);
    return { engine, tis };
  }

  get family(): TpmFamily {
    return this.options.family;
  }

  touch(now: number): void {
    this.lastUsedAt = now;
  }

  /** Everything a measurement can change, as plain data. */
  checkpoint(): SessionCheckpoint {
    return {
      engine: this.engine.snapshot(),
      tis: this.tis.snapshot(),
      log: this.log.toJSON(),
      logFull: this.logFull,
      measurements: this.measurements,
      extendsOutsideLog: this.extendsOutsideLog,
    };
  }

  snapshot(): SessionSnapshot {
    return { version: 1, id: this.id, options: { ...this.options, banks: [...this.options.banks] }, createdAt: this.createdAt, lastUsedAt: this.lastUsedAt, owner: this.owner, ...this.checkpoint() };
  }

  /** Rebuild a session from `snapshot()` data (e.g. loaded from a durable store). */
  static restore(s: SessionSnapshot): Session {
    if (s.version !== 1) throw new TypeError(`unsupported session snapshot version ${String(s.version)}`);
    const session = new Session(s.id, s.options, s.createdAt, s.owner ?? null);
    session.rollback(s);
    session.lastUsedAt = s.lastUsedAt;
    return session;
  }

  /**
   * The one way to change a session: takes the session's turn (requests run one at a time in arrival
   * order), checkpoints, runs `fn`, and puts everything back when `fn` throws, so a refused or aborted
   * request changes nothing. `fn` gets an AbortSignal that fires after `timeoutMs` (when given): work
   * that waits on the network listens to it, so a stalled client cannot hold the session's turn for
   * longer than that. This is the unit a durable store commits.
   */
  transact<T>(fn: (signal: AbortSignal) => Promise<T> | T, opts: TransactOptions = {}): Promise<T> {
    return this.queue.run(() => this.checked(fn, opts));
  }

  /**
   * Checkpoint, run, roll back on failure: the body of a transaction, for a caller that holds the
   * turn. With a durable store the change is committed before this resolves; a commit that fails
   * puts the session back and throws (503 `store-unavailable`).
   */
  private async checked<T>(fn: (signal: AbortSignal) => Promise<T> | T, opts: TransactOptions = {}, lock?: SessionStoreLock): Promise<T> {
    const txn = this.persistence ? await this.persistence.begin(this, lock) : undefined;
    const { undo, eventsFrom } = this.mark();
    // A signal per transaction only when it can fire (an AbortController costs a raw command ~2 %).
    const ac = opts.timeoutMs === undefined ? undefined : new AbortController();
    const timer = ac ? setTimeout(() => ac.abort(new TransactionTimeout(opts.timeoutMs ?? 0)), opts.timeoutMs) : undefined;
    let result: T;
    try {
      result = await fn(ac?.signal ?? NEVER);
    } catch (e) {
      undo();
      await txn?.abort();
      throw e;
    } finally {
      if (timer) clearTimeout(timer);
    }
    if (txn) {
      try {
        await txn.commit(eventsFrom());
      } catch (e) {
        undo();
        throw e;
      }
    }
    this.log.release();
    this.publish();
    return result;
  }

  private publish(): void {
    this.committed = { measurements: this.measurements, extendsOutsideLog: this.extendsOutsideLog, logFull: this.logFull };
  }

  /**
   * Take the session's turn and keep it across several transactions until `release()`: for a
   * socket client's command sequence that nothing may interleave with (a TPM 1.2 SHA-1 thread dies
   * on any other command; the dynamic launch is one sequence of cycles). The holder must release
   * it after a bounded time.
   */
  lease(): Promise<SessionLease> {
    return new Promise((resolveLease, rejectLease) => {
      void this.queue.run(async () => {
        let lock: SessionStoreLock | undefined;
        try {
          lock = this.persistence ? await this.persistence.lock(this) : undefined;
        } catch (e) {
          rejectLease(e);
          return;
        }
        await new Promise<void>((release) => {
          const lease: SessionLease = {
            released: false,
            transact: (fn) => this.checked(fn, {}, lock),
            release: () => {
              if (lease.released) return;
              lease.released = true;
              if (lock) void lock.release().then(release, release);
              else release();
            },
          };
          resolveLease(lease);
        });
      });
    });
  }

  /**
   * A point to come back to, costing the same however long the session's history: the TPM and TIS
   * states are small fixed-size data (sequences keep hash midstates), and the log only remembers
   * where it ended. Returns the function that puts everything back.
   */
  private mark(): { undo: () => void; eventsFrom: () => number } {
    const engine = this.engine.snapshot();
    const tis = this.tis.snapshot();
    const { logFull, measurements, extendsOutsideLog, log } = this;
    const logPoint = log.mark();
    return {
      undo: () => {
        ({ engine: this.engine, tis: this.tis } = this.rebuild(engine, tis));
        this.log = log;
        logPoint.undo();
        this.logFull = logFull;
        this.measurements = measurements;
        this.extendsOutsideLog = extendsOutsideLog;
      },
      // The first log event this transaction appended or changed (Xen fills digests after appending);
      // all of them if the transaction replaced the log.
      eventsFrom: () => (this.log === log ? logPoint.firstChanged() : 0),
    };
  }

  /** Everything but the log events, as plain data (SessionHead). */
  head(): SessionHead {
    return {
      options: { ...this.options, banks: [...this.options.banks] },
      engine: this.engine.snapshot(),
      tis: this.tis.snapshot(),
      log: this.log.headerJSON(),
      logFull: this.logFull,
      measurements: this.measurements,
      extendsOutsideLog: this.extendsOutsideLog,
    };
  }

  /** The log events from index `from` on, as plain data. */
  logEvents(from: number): SessionLogEvent[] {
    return this.log.eventsJSON(from);
  }

  /**
   * Bring the session up to a newer stored state from what changed since the version it holds: the
   * head (small, rebuilt) and the log events written since (appended, or digests rewritten), so the
   * cost is what changed, not the history. False (nothing usable; the caller loads the whole session)
   * when the changes do not fit the log this session holds.
   */
  applyChanges(head: SessionHead, events: readonly { idx: number; event: SessionLogEvent }[], count: number, version: number, lastUsedAt: number): boolean {
    const { engine, tis } = this.rebuild(head.engine, head.tis);
    const log = this.log;
    const known = log.eventCount;
    if (count < known) return false;
    try {
      for (const { idx, event } of events) {
        if (idx < known) {
          if (log instanceof TxtContainerLog) log.setDigest(idx, fromHex((event as TxtContainerSnapshot['events'][number]).digest));
          else (event as Tcg2LogSnapshot['events'][number]).digests.forEach((d, pos) => log.setDigest(idx, log.banks[pos]?.algorithmId ?? -1, fromHex(d)));
        } else if (log instanceof TxtContainerLog) {
          const e = event as TxtContainerSnapshot['events'][number];
          if (log.append({ pcr: e.pcr, type: e.type, digest: fromHex(e.digest), data: fromHex(e.data) }) === null) throw new RangeError('event does not fit');
        } else {
          const e = event as Tcg2LogSnapshot['events'][number];
          if (log.append({ pcr: e.pcr, type: e.type, digests: e.digests.map(fromHex), data: fromHex(e.data) }) === null) throw new RangeError('event does not fit');
        }
      }
      log.release();
      if (log.eventCount !== count) return false;
    } catch {
      return false;
    }
    this.install(engine, tis, log, head, { version, lastUsedAt });
    return true;
  }

  /** Put the session in the state of a stored head and its events (built fully before anything changes). */
  load(head: SessionHead, events: SessionLogEvent[], version: number, lastUsedAt: number): void {
    const { engine, tis } = this.rebuild(head.engine, head.tis);
    this.install(engine, tis, logFromJSON({ ...head.log, events } as SessionCheckpoint['log']), head, { version, lastUsedAt });
  }

  /**
   * Swap in a state built whole beforehand (TPM, TIS, log, counters) and publish it; `stored`: the
   * stored version it equals and that version's last-used time.
   */
  private install(engine: TpmEngine, tis: TisDevice, log: SessionLog, counters: Pick<SessionCheckpoint, 'logFull' | 'measurements' | 'extendsOutsideLog'>, stored?: { version: number; lastUsedAt: number }): void {
    this.engine = engine;
    this.tis = tis;
    this.log = log;
    this.logFull = counters.logFull;
    this.measurements = counters.measurements;
    this.extendsOutsideLog = counters.extendsOutsideLog ?? 0;
    if (stored) {
      this.storedVersion = stored.version;
      this.lastUsedAt = Math.max(this.lastUsedAt, stored.lastUsedAt);
    }
    this.publish();
  }

  /** Read-only work in the session's turn (nothing to roll back). */
  read<T>(fn: () => Promise<T> | T): Promise<T> {
    return this.queue.run(async () => {
      if (this.persistence) await this.persistence.refresh(this);
      return fn();
    });
  }

  /** Put the session back exactly as it was at `cp` (an aborted upload changes nothing). */
  rollback(cp: SessionCheckpoint): void {
    const { engine, tis } = this.rebuild(cp.engine, cp.tis);
    this.install(engine, tis, logFromJSON(cp.log), cp);
  }

  /**
   * Replace the TPM with one rebuilt from `engineSnapshot` (swtpm CMD_INIT resuming stored volatile
   * state); the TIS registers keep their state and now front the new engine.
   */
  replaceEngine(engineSnapshot: unknown): void {
    ({ engine: this.engine, tis: this.tis } = this.rebuild(engineSnapshot, this.tis.snapshot()));
  }

  /** Run `fn` when the session is deleted or expires (e.g. close its socket listeners). Returns an unregister function. */
  onClose(fn: () => void): () => void {
    if (this.closed) {
      fn();
      return () => undefined;
    }
    this.closeHooks.add(fn);
    return () => this.closeHooks.delete(fn);
  }

  /** The session is gone: run the close hooks once. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const fn of [...this.closeHooks]) fn();
    this.closeHooks.clear();
  }

  get isClosed(): boolean {
    return this.closed;
  }
}
