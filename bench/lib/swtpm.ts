/**
 * swtpm as the reference peer for the bench: a fresh `swtpm socket` per instance (own state
 * directory under the OS temp dir, removed on stop), commands over its Unix data socket, locality
 * through its control channel (PTM_SET_LOCALITY). No vitest dependency (test/support/swtpm.ts
 * imports vitest), and a frame reader that does not re-concatenate the buffer on every read.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PTM_SET_LOCALITY = 5;

export function swtpmVersion(): string | null {
  const r = spawnSync('swtpm', ['--version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return null;
  const m = /version\s+([0-9][^\s,]*)/.exec(r.stdout);
  return m ? `swtpm ${m[1]}` : 'swtpm';
}

class Framer {
  private buf: Buffer = Buffer.alloc(0);
  private want: ((b: Buffer) => void) | null = null;
  private fail: ((e: Error) => void) | null = null;
  private sizeAt: number;
  private fixed: number;
  private closed: Error | null = null;

  /** `sizeAt` ≥ 0: a u32 BE frame size at that offset (TPM header); else frames of `fixed` bytes. */
  constructor(sock: Socket, sizeAt: number, fixed = 0) {
    this.sizeAt = sizeAt;
    this.fixed = fixed;
    sock.on('data', (d: Buffer) => {
      this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
      this.pump();
    });
    const onEnd = (e?: Error): void => {
      this.closed = e ?? new Error('swtpm socket closed');
      const f = this.fail;
      this.want = null;
      this.fail = null;
      f?.(this.closed);
    };
    sock.on('close', () => onEnd());
    sock.on('error', (e) => onEnd(e));
  }

  private frameLen(): number {
    if (this.sizeAt < 0) return this.buf.length >= this.fixed ? this.fixed : -1;
    if (this.buf.length < this.sizeAt + 4) return -1;
    const n = this.buf.readUInt32BE(this.sizeAt);
    return this.buf.length >= n ? n : -1;
  }

  private pump(): void {
    if (!this.want) return;
    const n = this.frameLen();
    if (n < 0) return;
    const frame = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    const w = this.want;
    this.want = null;
    this.fail = null;
    w(frame);
  }

  next(): Promise<Buffer> {
    if (this.closed) return Promise.reject(this.closed);
    return new Promise<Buffer>((resolve, reject) => {
      this.want = resolve;
      this.fail = reject;
      this.pump();
    });
  }
}

async function connectUnix(path: string, deadlineMs: number): Promise<Socket> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    if (existsSync(path)) {
      try {
        return await new Promise<Socket>((resolve, reject) => {
          const s = connect(path);
          s.once('connect', () => resolve(s));
          s.once('error', reject);
        });
      } catch {
        /* not listening yet */
      }
    }
    if (Date.now() > end) throw new Error(`swtpm socket ${path} never came up`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export class SwtpmPeer {
  private constructor(
    private readonly proc: ChildProcess,
    private readonly dir: string,
    private readonly data: Socket,
    private readonly dataFrames: Framer,
    private readonly ctrl: Socket,
    private readonly ctrlFrames: Framer,
  ) {}

  static async start(tpm2: boolean): Promise<SwtpmPeer> {
    const dir = mkdtempSync(join(tmpdir(), 'bench-swtpm-'));
    const srv = join(dir, 'srv.sock');
    const ctl = join(dir, 'ctrl.sock');
    const args = [
      'socket',
      '--tpmstate', `dir=${dir}`,
      '--server', `type=unixio,path=${srv}`,
      '--ctrl', `type=unixio,path=${ctl}`,
      '--flags', 'not-need-init,startup-clear',
      '--locality', 'allow-set-locality',
    ];
    if (tpm2) args.push('--tpm2');
    const proc = spawn('swtpm', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    proc.on('error', (e) => (stderr += String(e)));
    try {
      const data = await connectUnix(srv, 5000);
      const ctrl = await connectUnix(ctl, 5000);
      data.setNoDelay?.(true);
      return new SwtpmPeer(proc, dir, data, new Framer(data, 2), ctrl, new Framer(ctrl, -1, 4));
    } catch (e) {
      proc.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`swtpm failed to start: ${(e as Error).message} ${stderr}`);
    }
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  /** One raw command; resolves with the whole response. */
  async send(cmd: Uint8Array): Promise<Uint8Array> {
    const p = this.dataFrames.next();
    this.data.write(cmd);
    return p;
  }

  async setLocality(loc: number): Promise<void> {
    const head = Buffer.alloc(5);
    head.writeUInt32BE(PTM_SET_LOCALITY, 0);
    head[4] = loc;
    const p = this.ctrlFrames.next();
    this.ctrl.write(head);
    const r = await p;
    const rc = r.readUInt32BE(0);
    if (rc !== 0) throw new Error(`swtpm SET_LOCALITY(${loc}) rc ${rc}`);
  }

  async stop(): Promise<void> {
    this.data.destroy();
    this.ctrl.destroy();
    if (this.proc.exitCode === null) {
      this.proc.kill('SIGTERM');
      await new Promise<void>((resolve) => {
        if (this.proc.exitCode !== null) return resolve();
        const t = setTimeout(() => {
          this.proc.kill('SIGKILL');
          resolve();
        }, 2000);
        this.proc.once('exit', () => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
