/**
 * A real swtpm on TCP (data port P, control port P + 1), the peer the socket tests compare the
 * service's session socket with, plus helpers that run the real client tools (swtpm_ioctl,
 * swtpm_bios, tpm2-tools) asynchronously (the service under test runs in the same process).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stopChild } from './swtpm-peer.js';

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run a tool; never rejects (the exit code is part of what the tests compare). */
export function run(cmd: string, args: string[], opts: { env?: Record<string, string>; input?: string; timeoutMs?: number } = {}): Promise<ToolResult> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { env: { ...process.env, ...(opts.env ?? {}) }, timeout: opts.timeoutMs ?? 20_000, encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as NodeJS.ErrnoException & { code?: unknown }).code === 'number' ? ((err as unknown as { code: number }).code) : -1) : 0;
      resolve({ code, stdout, stderr });
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    else child.stdin?.end();
  });
}

async function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** A random base port in [lo, hi) with room for `span` ports (each test file uses its own sub-range). */
export function randomBase(lo: number, hi: number, span: number): number {
  return lo + Math.floor(Math.random() * (hi - lo - span));
}

export interface SwtpmTcpOptions {
  tpm2?: boolean;
  startupClear?: boolean;
  /** Where to look for free ports: [lo, hi). */
  ports: [number, number];
}

export class SwtpmTcp {
  private constructor(
    private readonly proc: ChildProcess,
    private readonly dir: string,
    readonly dataPort: number,
  ) {}

  get ctrlPort(): number {
    return this.dataPort + 1;
  }

  static async start(opts: SwtpmTcpOptions): Promise<SwtpmTcp> {
    for (let attempt = 0; attempt < 10; attempt++) {
      const port = randomBase(opts.ports[0], opts.ports[1], 2);
      if ((await canConnect(port)) || (await canConnect(port + 1))) continue;
      const dir = mkdtempSync(join(tmpdir(), 'swtpm-tcp-'));
      const flags = ['not-need-init'];
      if (opts.startupClear) flags.push('startup-clear');
      const args = [
        'socket',
        '--tpmstate', `dir=${dir}`,
        '--server', `type=tcp,port=${port},bindaddr=127.0.0.1`,
        '--ctrl', `type=tcp,port=${port + 1},bindaddr=127.0.0.1`,
        '--flags', flags.join(','),
      ];
      if (opts.tpm2) args.push('--tpm2');
      const proc = spawn('swtpm', args, { stdio: ['ignore', 'ignore', 'pipe'] });
      let exited = false;
      proc.once('exit', () => (exited = true));
      for (let i = 0; i < 200 && !exited; i++) {
        if ((await canConnect(port + 1)) && (await canConnect(port))) {
          // Our probes took the one-client slots for a moment; swtpm frees them when they close.
          await new Promise((r) => setTimeout(r, 50));
          return new SwtpmTcp(proc, dir, port);
        }
        await new Promise((r) => setTimeout(r, 25));
      }
      proc.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
    throw new Error('swtpm (tcp) did not start');
  }

  async stop(): Promise<void> {
    await stopChild(this.proc, 2000);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
