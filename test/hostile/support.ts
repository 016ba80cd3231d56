/** Raw-socket helpers for hostile-input tests: stalled bodies, garbled requests, bounded waits. */
import { connect, type Socket } from 'node:net';

export interface RawReply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Parse the first HTTP/1.1 response in `text` (Content-Length bodies only). */
export function parseReply(text: string): RawReply | undefined {
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const [statusLine = '', ...lines] = text.slice(0, end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const l of lines) {
    const i = l.indexOf(':');
    if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  const len = Number(headers['content-length'] ?? '0');
  const body = text.slice(end + 4);
  if (Buffer.byteLength(body) < len) return undefined;
  return { status: Number(statusLine.split(' ')[1]), headers, body: body.slice(0, len) };
}

/** Open a raw connection to the server and send `head` (and optionally part of a body). */
export function openRaw(baseUrl: string, bytes: string | Buffer): Promise<{ socket: Socket; reply: Promise<RawReply | undefined> }> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname, () => {
      socket.write(bytes);
      let text = '';
      const reply = new Promise<RawReply | undefined>((res) => {
        socket.on('data', (d: Buffer) => {
          text += d.toString('latin1');
          const r = parseReply(text);
          if (r) res(r);
        });
        socket.on('close', () => res(parseReply(text)));
        socket.on('error', () => res(parseReply(text)));
      });
      resolve({ socket, reply });
    });
    socket.on('error', reject);
  });
}

/** Resolve with `p`, or with 'timeout' after `ms` (a bound for "does not hang", not a speed check). */
export function within<T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<'timeout'>((r) => (t = setTimeout(() => r('timeout'), ms)))]).finally(() => clearTimeout(t));
}
