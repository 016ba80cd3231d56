/**
 * A minimal TCP client for the swtpm socket protocol, used the same way against a real swtpm and
 * against a session's socket: TPM responses framed by their size field, control replies by length.
 */
import { connect, type Socket } from 'node:net';

export class RawClient {
  private buf = Buffer.alloc(0);
  private waiter: (() => void) | null = null;
  closed = false;

  private constructor(readonly sock: Socket) {
    sock.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.waiter?.();
    });
    sock.on('close', () => {
      this.closed = true;
      this.waiter?.();
    });
    sock.on('error', () => undefined);
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = connect({ host, port });
      s.once('connect', () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }

  write(b: Uint8Array): void {
    this.sock.write(b);
  }

  /** Wait until `pred(buffered)` gives a length to take, or the socket closes (then null). */
  private async take(pred: (b: Buffer) => number, timeoutMs: number): Promise<Buffer | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const n = pred(this.buf);
      if (n > 0 && this.buf.length >= n) {
        const out = this.buf.subarray(0, n);
        this.buf = this.buf.subarray(n);
        return Buffer.from(out);
      }
      if (this.closed) return null;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('timed out waiting for a response');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(t);
          this.waiter = null;
          resolve();
        };
      });
    }
  }

  /** The next TPM response (size from its header), or null when the server closed. */
  response(timeoutMs = 10_000): Promise<Buffer | null> {
    return this.take((b) => (b.length >= 6 ? b.readUInt32BE(2) : 0), timeoutMs);
  }

  /** The next `n` bytes (a control-channel reply), or null when the server closed. */
  bytes(n: number, timeoutMs = 10_000): Promise<Buffer | null> {
    return this.take(() => n, timeoutMs);
  }

  async command(cmd: Uint8Array): Promise<Buffer> {
    this.write(cmd);
    const r = await this.response();
    if (!r) throw new Error('connection closed before the response');
    return r;
  }

  /** Resolves when the server has closed the connection (or after `timeoutMs`: false). */
  async waitClosed(timeoutMs = 10_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    return this.closed;
  }

  close(): void {
    this.sock.destroy();
  }
}

export const be32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
};

/** A control request: u32 command code + payload. */
export const ctrlReq = (cmd: number, payload: Uint8Array = new Uint8Array(0)): Buffer => Buffer.concat([be32(cmd), payload]);

/** A TPM 1.2 command with tag RQU_COMMAND. */
export const tpm12 = (ordinal: number, body: Uint8Array = new Uint8Array(0)): Buffer => Buffer.concat([Buffer.from([0x00, 0xc1]), be32(10 + body.length), be32(ordinal), body]);

/** A TPM 2.0 command with tag ST_NO_SESSIONS. */
export const tpm20 = (code: number, body: Uint8Array = new Uint8Array(0)): Buffer => Buffer.concat([Buffer.from([0x80, 0x01]), be32(10 + body.length), be32(code), body]);
