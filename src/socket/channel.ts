/**
 * One TCP listener that serves one client at a time (node:net), as swtpm's main loop does: while a
 * client is connected, the listening socket is not polled, so a second client's connection waits
 * (in the kernel's backlog for swtpm; here accepted and left unread) until the first one leaves.
 *
 * A request is read completely before it is handed to `handle` (so a half-sent request never holds
 * the session's turn), the socket is not read while a request is processed or while its response
 * has not drained (a client that never reads holds at most one response), and a client idle for
 * `idleMs` is disconnected.
 */
import type { Server, Socket } from 'node:net';

export type Take = { kind: 'request'; request: Uint8Array; rest: Uint8Array } | { kind: 'close'; response?: Uint8Array } | null;

export interface ChannelSpec {
  /** Split one request off the received bytes; `graceOver` once `graceMs` passed since an incomplete request began. */
  take(buf: Uint8Array, graceOver: boolean): Take;
  /** Process one request; resolves to the response and whether to close afterwards. */
  handle(request: Uint8Array): Promise<{ response: Uint8Array; close?: 'client' | 'all' }>;
  /** Called when a handler asked to close everything (swtpm CMD_SHUTDOWN). */
  onCloseAll(): void;
  /** Called when the served client disconnects. */
  onClientClose?(): void;
  idleMs: number;
  graceMs: number;
  /** Most clients waiting for their turn; more are disconnected at once. */
  maxWaiting: number;
  /** Most bytes buffered from one client (a safety net: framing keeps it far below). */
  maxBuffered: number;
}

export class Channel {
  private active: Socket | null = null;
  private readonly waiting: Socket[] = [];
  private closed = false;
  private readonly sockets = new Set<Socket>();

  constructor(
    readonly server: Server,
    private readonly spec: ChannelSpec,
  ) {
    server.on('connection', (sock) => this.accept(sock));
  }

  get port(): number {
    const a = this.server.address();
    return typeof a === 'object' && a !== null ? a.port : 0;
  }

  get hasClient(): boolean {
    return this.active !== null;
  }

  private accept(sock: Socket): void {
    if (this.closed) {
      sock.destroy();
      return;
    }
    this.sockets.add(sock);
    sock.on('error', () => undefined);
    sock.on('close', () => {
      this.sockets.delete(sock);
      const i = this.waiting.indexOf(sock);
      if (i >= 0) this.waiting.splice(i, 1);
    });
    sock.setTimeout(this.spec.idleMs, () => sock.destroy());
    if (this.active === null) return this.serve(sock);
    if (this.waiting.length >= this.spec.maxWaiting) {
      sock.destroy();
      return;
    }
    sock.pause();
    this.waiting.push(sock);
  }

  private next(): void {
    this.active = null;
    while (!this.closed && this.waiting.length > 0) {
      const s = this.waiting.shift();
      if (s && !s.destroyed) return this.serve(s);
    }
  }

  private serve(sock: Socket): void {
    this.active = sock;
    sock.setNoDelay(true);
    let buf: Uint8Array = new Uint8Array(0);
    let busy = false;
    let grace: NodeJS.Timeout | undefined;
    let graceOver = false;
    const clearGrace = (): void => {
      if (grace) clearTimeout(grace);
      grace = undefined;
      graceOver = false;
    };
    const pump = (): void => {
      if (busy || sock.destroyed || this.closed) return;
      const t = this.spec.take(buf, graceOver);
      if (t === null) {
        if (buf.length > 0 && grace === undefined && !graceOver) {
          grace = setTimeout(() => {
            graceOver = true;
            pump();
          }, this.spec.graceMs);
        }
        return;
      }
      clearGrace();
      if (t.kind === 'close') {
        if (t.response) sock.end(t.response);
        else sock.destroy();
        return;
      }
      buf = t.rest.length > 0 ? t.rest.slice() : new Uint8Array(0);
      busy = true;
      sock.pause();
      this.spec.handle(t.request).then(
        (r) => {
          busy = false;
          if (sock.destroyed) return;
          if (r.close === 'all') {
            sock.end(r.response);
            this.spec.onCloseAll();
            return;
          }
          if (r.close === 'client') {
            sock.end(r.response);
            return;
          }
          const resume = (): void => {
            sock.resume();
            pump();
          };
          if (sock.write(r.response)) resume();
          else sock.once('drain', resume);
        },
        () => {
          // A broken handler (never a TPM error: those are responses) drops the client.
          busy = false;
          sock.destroy();
        },
      );
    };
    sock.on('data', (chunk: Buffer) => {
      const merged = new Uint8Array(buf.length + chunk.length);
      merged.set(buf, 0);
      merged.set(chunk, buf.length);
      buf = merged;
      if (buf.length > this.spec.maxBuffered) {
        sock.destroy();
        return;
      }
      pump();
    });
    sock.on('close', () => {
      clearGrace();
      this.spec.onClientClose?.();
      if (this.active === sock) this.next();
    });
    sock.resume();
  }

  /** Stop listening and disconnect every client. */
  close(): Promise<void> {
    this.closed = true;
    for (const s of this.sockets) s.destroy();
    this.waiting.length = 0;
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
