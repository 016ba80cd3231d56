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
import type { Session } from '../sessions/session.js';
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
        const response = await session.transact(() => (self as SocketAttachment).executeData(cmd));
        return { response };
      },
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
        const run = (): ReturnType<typeof processCtrl> => processCtrl(req, (self as SocketAttachment).target());
        const out = ctrlMutates(u32be(req, 0)) ? await session.transact(run) : await session.read(run);
        return out.after === 'shutdown' ? { response: out.response, close: 'all' } : { response: out.response };
      },
      onCloseAll: closeAll,
      idleMs: opts.idleMs,
      graceMs,
      maxWaiting: MAX_WAITING,
      maxBuffered: 65536,
    });
    self = new SocketAttachment(session, opts.host, data, ctrl, onClosed);
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

  /** Stop listening, drop the clients (idempotent). */
  close(): Promise<void> {
    if (!this.closing) {
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

  /** One data-channel command, inside the session's turn. */
  private executeData(raw: Uint8Array): Uint8Array {
    const s = this.session;
    const wrapped = unwrapSendCommand(s.family, raw);
    if (wrapped && isLocalityByte(wrapped.locality)) this.locality = wrapped.locality;
    const cmd = wrapped ? wrapped.command : raw;
    let rsp: Uint8Array;
    if (!this.running) rsp = notRunningResponse(s.family);
    else if (this.tisBusy()) rsp = busyResponse(s.family);
    else {
      rsp = s.engine.execute(cmd, this.locality);
      if (isSuccessfulExtend(s.family, cmd, rsp)) s.extendsOutsideLog++;
    }
    return wrapped ? wrapSendCommandResponse(rsp) : rsp;
  }

  /** The control channel's view of the session, used inside the session's turn. */
  private target(): CtrlTarget {
    const s = this.session;
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    return {
      family: s.family,
      get running() {
        return self.running;
      },
      set running(v: boolean) {
        self.running = v;
      },
      get locality() {
        return self.locality;
      },
      set locality(v: Locality) {
        self.locality = v;
      },
      bufferSize: s.engine.bufferSize,
      init: (flags) => {
        self.launch = null;
        if (self.volatile !== undefined) {
          // swtpm resumes the TPM from the stored volatile state (no Startup needed).
          s.replaceEngine(self.volatile);
          if (flags & PTM_INIT_FLAG_DELETE_VOLATILE) self.volatile = undefined;
        } else {
          s.engine.init();
        }
        return CTRL_RC.SUCCESS;
      },
      established: () => s.engine.established,
      resetEstablished: (loc) => s.engine.resetEstablishment(loc),
      hashStart: () => {
        if (self.tisBusy(true)) return CTRL_RC.RETRY;
        const rc = s.engine.hashStart();
        self.launch = rc === 0 ? launchHasher(s) : null;
        return rc;
      },
      hashData: (data) => {
        if (self.tisBusy(true)) return CTRL_RC.RETRY;
        const rc = s.engine.hashData(data);
        if (rc === 0) self.launch?.update(data);
        return rc;
      },
      hashEnd: () => {
        if (self.tisBusy(true)) return CTRL_RC.RETRY;
        const rc = s.engine.hashEnd();
        // The synthetic SINIT event /drtm logs, so the log still replays to PCR 17.
        if (rc === 0 && self.launch) appendLaunchEvent(s, self.launch);
        self.launch = null;
        return rc;
      },
      storeVolatile: () => {
        self.volatile = s.engine.snapshot();
        return CTRL_RC.SUCCESS;
      },
    };
  }
}

export { CTRL_CMD };
