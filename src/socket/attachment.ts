/**
 * A session's TPM on swtpm's socket protocol (node:net adapter): a data channel and a control
 * channel on adjacent loopback ports (tpm2-tss's swtpm TCTI uses data port + 1 for control).
 *
 * Every request runs in the session's turn (Session.transact for what can change the TPM,
 * Session.read otherwise), one request per turn, after it has been read completely, so HTTP
 * requests and socket clients interleave only between whole commands.
 */
import { createServer, type Server } from 'node:net';
import { u32be } from '../bytes/index.js';
import { DomainError } from '../errors.js';
import type { MultiHasher } from '../hash/index.js';
import { appendLaunchEvent, launchHasher } from '../measure/launch.js';
import type { Session, SessionLease } from '../sessions/session.js';
import type { Locality } from '../tpm/engine.js';
import { isSuccessfulExtend } from '../tpm/extends.js';
import { Channel } from './channel.js';
import { CTRL_CMD, CTRL_RC, ctrlMutates, PTM_INIT_FLAG_DELETE_VOLATILE, processCtrl, takeCtrlRequest, type CtrlTarget } from './ctrl-protocol.js';
import { busyResponse, isLocalityByte, maxDataRead, notRunningResponse, takeDataCommand, unwrapSendCommand, wrapSendCommandResponse } from './data-protocol.js';

export interface SocketOptions {
  /** Loopback address the listeners bind to (SOCKET_HOST). */
  host: string;
  /** Inclusive port range the data port and control port (data port + 1) come from (SOCKET_PORT_RANGE). */
  portRange: readonly [number, number];
  /** A client silent this long is disconnected (SOCKET_IDLE_SECONDS). */
  idleMs: number;
  /** How long an incomplete request may take to arrive (swtpm's control channel allows 500 ms). */
  graceMs?: number;
  /**
   * Longest time a socket client may keep the session's turn between the commands of a sequence
   * nothing may interleave with (TPM 1.2 SHA1Start … SHA1Complete(Extend), HASH_START … HASH_END)
   * (SOCKET_SEQUENCE_HOLD_MS).
   */
  holdMs: number;
  now?: () => number;
}

export interface SocketView {
  host: string;
  dataPort: number;
  ctrlPort: number;
  tcti: string;
  running: boolean;
  locality: number;
  dataClient: boolean;
  ctrlClient: boolean;
}

/** The time swtpm gives a control request to arrive completely (ctrlchannel.c: 500 ms). */
export const DEFAULT_GRACE_MS = 500;
const MAX_WAITING = 8;
/** TPM_SHA1Start, TPM_SHA1Update: after them the SHA-1 thread is open. */
const SHA1_THREAD = new Set([0xa0, 0xa1]);

function listen(host: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer({ pauseOnConnect: false });
    const onError = (e: Error): void => {
      server.close();
      reject(e);
    };
    server.once('error', onError);
    server.listen({ port, host, exclusive: true, backlog: 16 }, () => {
      server.off('error', onError);
      server.on('error', () => undefined);
      resolve(server);
    });
  });
}

/** Two adjacent free ports from the range, starting at a random place in it. */
async function listenPair(host: string, [lo, hi]: readonly [number, number]): Promise<[Server, Server]> {
  const count = hi - lo; // candidate data ports lo … hi-1
  const start = Math.floor(Math.random() * count);
  const attempts = Math.min(count, 200);
  for (let i = 0; i < attempts; i++) {
    const p = lo + ((start + i) % count);
    let a: Server;
    try {
      a = await listen(host, p);
    } catch {
      continue;
    }
    try {
      return [a, await listen(host, p + 1)];
    } catch {
      await new Promise<void>((r) => a.close(() => r()));
    }
  }
  throw new DomainError('socket-ports-exhausted', `no two adjacent free ports found in SOCKET_PORT_RANGE ${lo}-${hi} after ${attempts} attempts; close other sockets or widen the range`);
}

export class SocketAttachment {
  /** CMD_STOP stops the TPM for socket clients until CMD_INIT. */
  running = true;
  /** Locality of data-channel commands (CMD_SET_LOCALITY, or the TCG send-command prefix). */
  locality: Locality = 0;
  /** CMD_STORE_VOLATILE's saved state, resumed by the next CMD_INIT. */
  private volatile: unknown = undefined;
  /** Digest of the dynamic launch in progress on the control channel (for the log event). */
  private launch: MultiHasher | null = null;
  private closing: Promise<void> | null = null;
  /** The session's turn, kept between the commands of an uninterruptible sequence. */
  private held: SessionLease | null = null;
  private holdOwner: 'data' | 'ctrl' | null = null;
  private holdTimer: NodeJS.Timeout | undefined;
  private holdMs = 0;

  private constructor(
    readonly session: Session,
    readonly host: string,
    private readonly data: Channel,
    private readonly ctrl: Channel,
    private readonly onClosed: () => void,
  ) {}

  static async open(session: Session, opts: SocketOptions, onClosed: () => void): Promise<SocketAttachment> {
    const [ds, cs] = await listenPair(opts.host, opts.portRange);
    const graceMs = opts.graceMs ?? DEFAULT_GRACE_MS;
    const now = opts.now ?? Date.now;
    let self: SocketAttachment | undefined;
    const closeAll = (): void => void self?.close();
    const maxRead = maxDataRead(session.engine.bufferSize);
    const data = new Channel(ds, {
      take: (buf, graceOver) => {
        const t = takeDataCommand(buf, maxRead, graceOver);
        return t ? { kind: 'request', request: t.command, rest: t.rest } : null;
      },
      handle: async (cmd) => {
        session.touch(now());
        const me = self as SocketAttachment;
        const r = await me.inTurn('data', true, () => me.executeData(cmd), (x) => x.keepTurn);
        return { response: r.response };
      },
      onClientClose: () => self?.releaseHold('data'),
      onCloseAll: closeAll,
      idleMs: opts.idleMs,
      graceMs,
      maxWaiting: MAX_WAITING,
      maxBuffered: maxRead + 65536,
    });
    const ctrl = new Channel(cs, {
      take: (buf, graceOver) => {
        const t = takeCtrlRequest(buf);
        if (t === null) return graceOver ? { kind: 'close' } : null;
        if (t.tooLong) {
          const rsp = new Uint8Array(4);
          rsp[3] = CTRL_RC.BAD_PARAMETER;
          return { kind: 'close', response: rsp };
        }
        return { kind: 'request', request: t.request, rest: t.rest };
      },
      handle: async (req) => {
        session.touch(now());
        const me = self as SocketAttachment;
        const cmd = u32be(req, 0);
        const out = await me.inTurn('ctrl', ctrlMutates(cmd), () => processCtrl(req, me.target()), (o) => (cmd === CTRL_CMD.HASH_START || cmd === CTRL_CMD.HASH_DATA) && u32be(o.response, 0) === 0);
        return out.after === 'shutdown' ? { response: out.response, close: 'all' } : { response: out.response };
      },
      onClientClose: () => self?.releaseHold('ctrl'),
      onCloseAll: closeAll,
      idleMs: opts.idleMs,
      graceMs,
      maxWaiting: MAX_WAITING,
      maxBuffered: 65536,
    });
    self = new SocketAttachment(session, opts.host, data, ctrl, onClosed);
    self.holdMs = opts.holdMs;
    return self;
  }

  get dataPort(): number {
    return this.data.port;
  }
  get ctrlPort(): number {
    return this.ctrl.port;
  }

  view(): SocketView {
    const host = this.host.includes(':') ? `[${this.host}]` : this.host;
    return {
      host: this.host,
      dataPort: this.dataPort,
      ctrlPort: this.ctrlPort,
      tcti: `swtpm:host=${host},port=${this.dataPort}`,
      running: this.running,
      locality: this.locality,
      dataClient: this.data.hasClient,
      ctrlClient: this.ctrl.hasClient,
    };
  }

  /**
   * Run `fn` in the session's turn: a transaction (or a read when `mutates` is false), or inside
   * the turn this attachment still holds. When `keep(result)` says the command opened or continued
   * an uninterruptible sequence, the turn is kept (for at most holdMs); otherwise it is given back.
   */
  private async inTurn<T>(owner: 'data' | 'ctrl', mutates: boolean, fn: () => T, keep: (r: T) => boolean): Promise<T> {
    let lease = this.held && !this.held.released ? this.held : null;
    if (!lease && !mutates) return this.session.read(fn);
    if (!lease) lease = await this.session.lease();
    let r: T;
    try {
      r = await lease.transact(fn);
    } catch (e) {
      if (lease === this.held) this.releaseHold();
      else lease.release();
      throw e;
    }
    if (lease === this.held && owner !== this.holdOwner) {
      // The other channel's request ran inside the sequence (e.g. tpm2-tss's SET_LOCALITY before
      // each command): the sequence's owner decides when it ends.
    } else if (keep(r) && !this.closing) {
      this.held = lease;
      this.holdOwner = owner;
      if (this.holdTimer) clearTimeout(this.holdTimer);
      this.holdTimer = setTimeout(() => this.releaseHold(), this.holdMs);
    } else if (lease === this.held) {
      this.releaseHold();
    } else {
      lease.release();
    }
    return r;
  }

  /** Give the session's turn back (sequence ended, timed out, or its client left). */
  releaseHold(owner?: 'data' | 'ctrl'): void {
    if (owner !== undefined && owner !== this.holdOwner) return;
    if (this.holdTimer) clearTimeout(this.holdTimer);
    this.holdTimer = undefined;
    this.held?.release();
    this.held = null;
    this.holdOwner = null;
  }

  /** Stop listening, drop the clients (idempotent). */
  close(): Promise<void> {
    if (!this.closing) {
      this.releaseHold();
      this.closing = Promise.all([this.data.close(), this.ctrl.close()]).then(() => undefined);
      this.onClosed();
    }
    return this.closing;
  }

  /** A TIS locality held over /mmio keeps the socket's commands off the TPM (as it keeps /drtm off). */
  private tisBusy(allow4 = false): boolean {
    const active = this.session.tis.state().activeLocality;
    return active !== null && !(allow4 && active === 4);
  }

  /**
   * One data-channel command, inside the session's turn. `keepTurn`: a TPM 1.2 SHA-1 thread is
   * open (SHA1Start or SHA1Update succeeded), and any other command would end it (TPM Main Part 3 §13).
   */
  private executeData(raw: Uint8Array): { response: Uint8Array; keepTurn: boolean } {
    const s = this.session;
    const wrapped = unwrapSendCommand(s.family, raw);
    if (wrapped && isLocalityByte(wrapped.locality)) this.locality = wrapped.locality;
    const cmd = wrapped ? wrapped.command : raw;
    let rsp: Uint8Array;
    let keepTurn = false;
    if (!this.running) rsp = notRunningResponse(s.family);
    else if (this.tisBusy()) rsp = busyResponse(s.family);
    else {
      rsp = s.engine.execute(cmd, this.locality);
      if (isSuccessfulExtend(s.family, cmd, rsp)) s.extendsOutsideLog++;
      keepTurn = s.family === '1.2' && cmd.length >= 10 && rsp.length >= 10 && SHA1_THREAD.has(u32be(cmd, 6)) && u32be(rsp, 6) === 0;
    }
    return { response: wrapped ? wrapSendCommandResponse(rsp) : rsp, keepTurn };
  }

  /** The control channel's view of the session, used inside the session's turn. */
  private target(): CtrlTarget {
    const s = this.session;
    return {
      family: s.family,
      isRunning: () => this.running,
      setRunning: (v) => {
        this.running = v;
      },
      setLocality: (v) => {
        this.locality = v;
      },
      bufferSize: s.engine.bufferSize,
      init: (flags) => {
        this.launch = null;
        if (this.volatile !== undefined) {
          // swtpm resumes the TPM from the stored volatile state (no Startup needed).
          s.replaceEngine(this.volatile);
          if (flags & PTM_INIT_FLAG_DELETE_VOLATILE) this.volatile = undefined;
        } else {
          s.engine.init();
        }
        return CTRL_RC.SUCCESS;
      },
      established: () => s.engine.established,
      resetEstablished: (loc) => s.engine.resetEstablishment(loc),
      hashStart: () => {
        if (this.tisBusy(true)) return CTRL_RC.RETRY;
        const rc = s.engine.hashStart();
        this.launch = rc === 0 ? launchHasher(s) : null;
        return rc;
      },
      hashData: (data) => {
        if (this.tisBusy(true)) return CTRL_RC.RETRY;
        const rc = s.engine.hashData(data);
        if (rc === 0) this.launch?.update(data);
        return rc;
      },
      hashEnd: () => {
        if (this.tisBusy(true)) return CTRL_RC.RETRY;
        const rc = s.engine.hashEnd();
        // The synthetic SINIT event /drtm logs, so the log still replays to PCR 17.
        if (rc === 0 && this.launch) appendLaunchEvent(s, this.launch);
        this.launch = null;
        return rc;
      },
      storeVolatile: () => {
        this.volatile = s.engine.snapshot();
        return CTRL_RC.SUCCESS;
      },
    };
  }
}

export { CTRL_CMD };
