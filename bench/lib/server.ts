/**
 * Start the service as a user runs it in production (`node dist/src/server.js`, LOG_LEVEL=warn) as a
 * child process and talk to it over 127.0.0.1 with node:http and a keep-alive agent.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort, stopChild } from '../../test/support/process.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { fileURLToPath } from 'node:url';
import type { Readable } from 'node:stream';

/** The production entry point, built by `npm run build` (the bench builds before it starts). */
export const SERVER = fileURLToPath(new URL('../../dist/src/server.js', import.meta.url));
export const SERVICE_LOG_LEVEL = 'warn';

/**
 * The environment `npm start` gives the server beyond the user's own (package.json config, read by
 * the start script): the bench starts `node dist/src/server.js` as `npm start` would.
 */
export function startEnv(): Record<string, string> {
  const pkg = JSON.parse(readFileSync(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8')) as { config?: { glibcTunables?: string } };
  return pkg.config?.glibcTunables ? { GLIBC_TUNABLES: pkg.config.glibcTunables } : {};
}


function probe(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/healthz', method: 'GET' }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.end();
  });
}

export interface HttpResult {
  status: number;
  body: Buffer;
}

export class ServiceProcess {
  readonly agent = new Agent({ keepAlive: true, maxSockets: 1 });
  private constructor(
    private readonly proc: ChildProcess,
    readonly port: number,
    readonly pid: number,
  ) {}

  /**
   * Start the built server (`node dist/src/server.js`, what `npm start` runs) on 127.0.0.1 with
   * LOG_LEVEL=warn, as it would run in production; `env` adds settings (e.g. MAX_SESSIONS).
   * `nodeArgs` go before the script (e.g. --cpu-prof for profiling runs).
   */
  static async start(env: Record<string, string> = {}, nodeArgs: string[] = []): Promise<ServiceProcess> {
    const port = await freePort();
    // The default store (SQLite, every change committed before its response) in a temporary DATA_DIR.
    const dataDir = env.DATA_DIR || env.DATABASE_URL || process.env.DATABASE_URL ? undefined : mkdtempSync(join(tmpdir(), 'tpm-measure-bench-data-'));
    const proc = spawn(process.execPath, [...nodeArgs, SERVER], {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: {
        ...process.env,
        ...startEnv(),
        NODE_ENV: 'production',
        LOG_LEVEL: SERVICE_LOG_LEVEL,
        HOST: '127.0.0.1',
        PORT: String(port),
        // One client address drives the bench: the per-address rate limit and load shedding would
        // measure themselves, not the service.
        RATE_LIMIT_MAX: '0',
        SHED_EVENT_LOOP_DELAY_MS: '0',
        ...(dataDir ? { DATA_DIR: dataDir } : {}),
        ...env,
      },
    });
    if (dataDir) proc.once('exit', () => rmSync(dataDir, { recursive: true, force: true }));
    const exited = new Promise<never>((_, reject) => proc.once('exit', (code) => reject(new Error(`service exited early with code ${code}`))));
    exited.catch(() => undefined);
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (proc.exitCode !== null) await exited;
      try {
        const ok = await Promise.race([probe(port), exited]);
        if (ok) break;
      } catch (e) {
        if (proc.exitCode !== null) throw e;
      }
      if (Date.now() > deadline) {
        proc.kill('SIGKILL');
        throw new Error('service did not answer /healthz within 20 s');
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    return new ServiceProcess(proc, port, proc.pid ?? 0);
  }

  /** One request; `body` is a buffer or a stream (piped, Content-Length given by the caller). */
  send(method: string, path: string, body?: Uint8Array | Readable, headers: Record<string, string | number> = {}): Promise<HttpResult> {
    return new Promise<HttpResult>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: this.port, method, path, agent: this.agent, headers }, (res) => {
        const parts: Buffer[] = [];
        res.on('data', (d: Buffer) => parts.push(d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts) }));
        res.on('error', reject);
      });
      req.on('error', reject);
      if (body === undefined) req.end();
      else if (body instanceof Uint8Array) req.end(body);
      else {
        body.on('error', (e) => req.destroy(e));
        body.pipe(req);
      }
    });
  }

  async json<T>(method: string, path: string, payload: unknown, expect: number): Promise<T> {
    const body = Buffer.from(JSON.stringify(payload));
    const r = await this.send(method, path, body, { 'content-type': 'application/json', 'content-length': body.length });
    if (r.status !== expect) throw new Error(`${method} ${path}: HTTP ${r.status} ${r.body.toString().slice(0, 300)}`);
    return JSON.parse(r.body.toString()) as T;
  }

  async createSession(body: Record<string, unknown>): Promise<string> {
    const s = await this.json<{ id: string }>('POST', '/v1/sessions', body, 201);
    return s.id;
  }

  /** VmRSS and VmHWM of the service process in bytes (Linux /proc). */
  memory(): { rss: number; hwm: number } {
    const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    const kb = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
    return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
  }

  async stop(): Promise<void> {
    this.agent.destroy();
    await stopChild(this.proc, 5000);
  }
}

export { freePort, stopChild };

/** A peer server script (bench/lib/bare-*.mjs) in its own process on a free port; it prints a line when listening. */
export async function startPeerServer(script: string): Promise<{ port: number; stop: () => Promise<void> }> {
  const port = await freePort();
  const proc = spawn(process.execPath, [script, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${script} did not start`)), 15_000);
    proc.stdout?.once('data', () => {
      clearTimeout(t);
      resolve();
    });
    proc.once('exit', (c) => reject(new Error(`${script} exited ${c}`)));
  });
  return { port, stop: () => stopChild(proc, 3000) };
}
