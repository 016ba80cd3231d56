/**
 * A small, bounded HTTP/1.1 load generator for the concurrency rows: `connections` keep-alive TCP
 * connections to 127.0.0.1, each with exactly one request in flight (no pipelining), the request
 * bytes prepared up front. It runs in the bench process (one thread), like wrk or autocannon would,
 * and is used unchanged against the service and against the bare Fastify route, so its own cost
 * is in both. Every response is parsed (status line, Content-Length, body) and handed to `check`,
 * so a failing request cannot look fast.
 */
import { connect, type Socket } from 'node:net';

export interface Job {
  /** The whole request (head and body). */
  bytes: Buffer;
  /** Called with the response; throw to fail the run. */
  check?: (status: number, body: Buffer) => void;
}

export interface LoadResult {
  requests: number;
  ms: number;
  rate: number;
}

/** A raw HTTP request: method, path, headers, body. */
export function httpRequest(method: string, path: string, port: number, body: Uint8Array | null, contentType = 'application/octet-stream', extra: Record<string, string> = {}): Buffer {
  let head = `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: keep-alive\r\n`;
  if (body) head += `Content-Type: ${contentType}\r\nContent-Length: ${body.length}\r\n`;
  for (const [k, v] of Object.entries(extra)) head += `${k}: ${v}\r\n`;
  head += '\r\n';
  return body ? Buffer.concat([Buffer.from(head, 'latin1'), body]) : Buffer.from(head, 'latin1');
}

class Conn {
  private buf: Buffer = Buffer.alloc(0);
  private want: { status: number; headLen: number; total: number } | null = null;
  private resolve: ((r: { status: number; body: Buffer }) => void) | null = null;
  private reject: ((e: Error) => void) | null = null;
  private constructor(private readonly sock: Socket) {
    sock.setNoDelay(true);
    sock.on('data', (d: Buffer) => this.onData(d));
    sock.on('error', (e) => this.fail(e));
    sock.on('close', () => this.fail(new Error('connection closed by the server')));
  }

  static open(port: number): Promise<Conn> {
    return new Promise((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port }, () => {
        s.off('error', reject);
        resolve(new Conn(s));
      });
      s.once('error', reject);
    });
  }

  private fail(e: Error): void {
    const r = this.reject;
    this.resolve = this.reject = null;
    r?.(e);
  }

  private onData(d: Buffer): void {
    this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
    if (!this.want) {
      const end = this.buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = this.buf.toString('latin1', 0, end);
      const status = Number(head.slice(9, 12));
      const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
      const noBody = status === 204 || status === 304;
      if (!m && !noBody) return this.fail(new Error(`response without Content-Length: ${head.slice(0, 200)}`));
      this.want = { status, headLen: end + 4, total: end + 4 + (m ? Number(m[1]) : 0) };
    }
    if (this.buf.length < this.want.total) return;
    const { status, headLen, total } = this.want;
    const body = this.buf.subarray(headLen, total);
    this.buf = this.buf.subarray(total);
    this.want = null;
    const r = this.resolve;
    this.resolve = this.reject = null;
    r?.({ status, body });
  }

  send(bytes: Buffer): Promise<{ status: number; body: Buffer }> {
    return new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
      this.sock.write(bytes);
    });
  }

  close(): void {
    this.sock.removeAllListeners('close');
    this.sock.destroy();
  }
}

/**
 * Run `total` jobs over `connections` connections (connection c takes jobs c, c + connections, …
 * from `job(i, c)`), or stop at `budgetMs` (at least one round). Returns completed requests per second.
 */
export async function runLoad(port: number, connections: number, total: number, job: (i: number, conn: number) => Job, budgetMs = Infinity): Promise<LoadResult> {
  const conns = await Promise.all(Array.from({ length: connections }, () => Conn.open(port)));
  let next = 0;
  let done = 0;
  const t0 = performance.now();
  try {
    await Promise.all(
      conns.map(async (c, k) => {
        for (;;) {
          if (next >= total || (done >= connections && performance.now() - t0 > budgetMs)) return;
          const i = next++;
          const j = job(i, k);
          const r = await c.send(j.bytes);
          j.check?.(r.status, r.body);
          done++;
        }
      }),
    );
  } finally {
    for (const c of conns) c.close();
  }
  const ms = performance.now() - t0;
  return { requests: done, ms, rate: (done * 1000) / ms };
}
