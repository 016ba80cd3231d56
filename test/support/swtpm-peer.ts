/**
 * The reference peer: swtpm + libtpms (Debian packages swtpm, swtpm-tools), for the differential
 * tests and the bench. No vitest here (test/support/swtpm.ts adds the describe helper).
 *
 * Data channel: raw TPM commands over a Unix socket; control channel: swtpm's ioctl protocol
 * (u32 big-endian command code + payload → u32 result + payload), the one swtpm_ioctl uses.
 * Each instance gets a fresh state directory, so every peer starts as a brand-new TPM.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stopChild } from './process.js';

/** swtpm control-channel commands (swtpm `tpm_ioctl.h`). */
export const PTM_CMD = {
  GET_CAPABILITY: 1,
  INIT: 2,
  SHUTDOWN: 3,
  GET_TPMESTABLISHED: 4,
  SET_LOCALITY: 5,
  HASH_START: 6,
  HASH_DATA: 7,
  HASH_END: 8,
  CANCEL_TPM_CMD: 9,
  STORE_VOLATILE: 10,
  RESET_TPMESTABLISHED: 11,
  STOP: 14,
} as const;

let cachedAvailable: boolean | undefined;
export function swtpmAvailable(): boolean {
  if (cachedAvailable === undefined) {
    const r = spawnSync('swtpm', ['--version'], { encoding: 'utf8' });
    cachedAvailable = r.status === 0;
  }
  return cachedAvailable;
}

export function swtpmVersion(): string | null {
  const r = spawnSync('swtpm', ['--version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return null;
  const m = /version\s+([0-9][^\s,]*)/.exec(r.stdout);
  return m ? `swtpm ${m[1]}` : 'swtpm';
}

/** Splits a stream into frames: TPM responses (size field at a fixed offset) or fixed-size replies. */
class Framer {
  private buf: Buffer = Buffer.alloc(0);
  private want: ((b: Buffer) => void) | null = null;
  private fail: ((e: Error) => void) | null = null;
  private readonly sizeAt: number;
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

  /** The next frame; `fixed` overrides the frame length for this one read (control replies vary). */
  next(fixed?: number): Promise<Buffer> {
    if (fixed !== undefined) this.fixed = fixed;
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

export interface SwtpmOptions {
  tpm2?: boolean;
  /** Send TPM_Startup(ST_CLEAR)/TPM2_Startup(SU_CLEAR) at start (swtpm --flags startup-clear). Default true. */
  startupClear?: boolean;
}

export class Swtpm {
  private constructor(
    private readonly proc: ChildProcess,
    private readonly dir: string,
    private readonly data: Socket,
    private readonly dataFrames: Framer,
    private readonly ctrl: Socket,
    private readonly ctrlFrames: Framer,
  ) {}

  static async start(opts: SwtpmOptions = {}): Promise<Swtpm> {
    const dir = mkdtempSync(join(tmpdir(), 'swtpm-'));
    const srv = join(dir, 'srv.sock');
    const ctl = join(dir, 'ctrl.sock');
    const flags = ['not-need-init'];
    if (opts.startupClear ?? true) flags.push('startup-clear');
    const args = [
      'socket',
      '--tpmstate', `dir=${dir}`,
      '--server', `type=unixio,path=${srv}`,
      '--ctrl', `type=unixio,path=${ctl}`,
      '--flags', flags.join(','),
      '--locality', 'allow-set-locality',
    ];
    if (opts.tpm2) args.push('--tpm2');
    const proc = spawn('swtpm', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    try {
      const data = await connectUnix(srv, 5000);
      const ctrl = await connectUnix(ctl, 5000);
      data.setNoDelay?.(true);
      return new Swtpm(proc, dir, data, new Framer(data, 2), ctrl, new Framer(ctrl, -1, 4));
    } catch (e) {
      proc.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`swtpm failed to start: ${(e as Error).message}\n${stderr}`);
    }
  }

  /** Send one raw command; returns the whole response (size from its header). */
  async send(cmd: Uint8Array): Promise<Uint8Array> {
    const p = this.dataFrames.next();
    this.data.write(cmd);
    return new Uint8Array(await p);
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  private async ctrlCmd(cmd: number, payload: Uint8Array = new Uint8Array(0), respExtra = 0): Promise<{ rc: number; extra: Buffer }> {
    const head = Buffer.alloc(4);
    head.writeUInt32BE(cmd);
    const p = this.ctrlFrames.next(4 + respExtra);
    this.ctrl.write(Buffer.concat([head, payload]));
    const r = await p;
    return { rc: r.readUInt32BE(0), extra: r.subarray(4) };
  }

  async setLocality(loc: number): Promise<number> {
    return (await this.ctrlCmd(PTM_CMD.SET_LOCALITY, Uint8Array.of(loc))).rc;
  }
  async hashStart(): Promise<number> {
    return (await this.ctrlCmd(PTM_CMD.HASH_START)).rc;
  }
  async hashData(data: Uint8Array): Promise<number> {
    // ptm_hdata: u32 length + data; swtpm takes at most 4096-4 bytes per call.
    const max = 4092;
    for (let off = 0; off < data.length || off === 0; off += max) {
      const part = data.subarray(off, Math.min(data.length, off + max));
      const p = Buffer.alloc(4 + part.length);
      p.writeUInt32BE(part.length);
      p.set(part, 4);
      const { rc } = await this.ctrlCmd(PTM_CMD.HASH_DATA, p);
      if (rc !== 0) return rc;
      if (data.length === 0) break;
    }
    return 0;
  }
  async hashEnd(): Promise<number> {
    return (await this.ctrlCmd(PTM_CMD.HASH_END)).rc;
  }
  /** The whole dynamic launch, as the CPU would drive it at locality 4. */
  async drtm(data: Uint8Array): Promise<number> {
    const a = await this.hashStart();
    if (a !== 0) return a;
    if (data.length > 0) {
      const b = await this.hashData(data);
      if (b !== 0) return b;
    }
    return this.hashEnd();
  }
  async getEstablished(): Promise<boolean> {
    const { rc, extra } = await this.ctrlCmd(PTM_CMD.GET_TPMESTABLISHED, new Uint8Array(0), 4);
    if (rc !== 0) throw new Error(`GET_TPMESTABLISHED rc ${rc}`);
    return extra[0] === 1;
  }
  async resetEstablished(loc: number): Promise<number> {
    return (await this.ctrlCmd(PTM_CMD.RESET_TPMESTABLISHED, Uint8Array.of(loc))).rc;
  }
  /** TPM_Init (power cycle without losing NV state). */
  async init(): Promise<number> {
    return (await this.ctrlCmd(PTM_CMD.INIT, new Uint8Array(4))).rc;
  }

  async stop(): Promise<void> {
    try {
      this.data.destroy();
      this.ctrl.destroy();
    } finally {
      await stopChild(this.proc, 2000);
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}

export { stopChild };
