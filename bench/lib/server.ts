/**
 * Start the service (bench/server-child.ts) as a child process and talk to it over 127.0.0.1 with
 * node:http and a keep-alive agent (one connection reused, as a service-to-service client would).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { fileURLToPath } from 'node:url';
import type { Readable } from 'node:stream';

const CHILD = fileURLToPath(new URL('../server-child.ts', import.meta.url));

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

  static async start(): Promise<ServiceProcess> {
    const proc = spawn(process.execPath, ['--import', 'tsx', CHILD], {
      stdio: ['pipe', 'pipe', 'inherit'],
      env: { ...process.env, NODE_ENV: 'production' },
    });
    const info = await new Promise<{ port: number; pid: number }>((resolve, reject) => {
      let out = '';
      const t = setTimeout(() => reject(new Error('service did not start within 20 s')), 20_000);
      proc.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        const nl = out.indexOf('\n');
        if (nl >= 0) {
          clearTimeout(t);
          try {
            resolve(JSON.parse(out.slice(0, nl)) as { port: number; pid: number });
          } catch (e) {
            reject(e as Error);
          }
        }
      });
      proc.once('exit', (code) => {
        clearTimeout(t);
        reject(new Error(`service exited early with code ${code}`));
      });
    });
    return new ServiceProcess(proc, info.port, info.pid);
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

/**
 * The HTTP floor: a bare node:http server in its own process that drains the request body and
 * answers a fixed 14-byte TPM-style success response (tag, size, rc 0, a u32 handle). Measured with
 * the same client as the service, it shows how much of the HTTP rows is HTTP itself.
 */
const FLOOR_SERVER = `
const http = require('node:http');
const rsp = Buffer.from([0x80,0x01,0,0,0,14,0,0,0,0,0x80,0,0,0]);
const s = http.createServer((req, res) => {
  req.on('data', () => {});
  req.on('end', () => { res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': rsp.length }); res.end(rsp); });
});
s.listen(0, '127.0.0.1', () => process.stdout.write(JSON.stringify({ port: s.address().port }) + '\\n'));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
`;

export class HttpFloor {
  readonly agent = new Agent({ keepAlive: true, maxSockets: 1 });
  private constructor(
    private readonly proc: ChildProcess,
    readonly port: number,
  ) {}

  static async start(): Promise<HttpFloor> {
    const proc = spawn(process.execPath, ['-e', FLOOR_SERVER], { stdio: ['pipe', 'pipe', 'inherit'] });
    const port = await new Promise<number>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('HTTP floor server did not start')), 10_000);
      proc.stdout?.once('data', (d: Buffer) => {
        clearTimeout(t);
        resolve((JSON.parse(d.toString()) as { port: number }).port);
      });
    });
    return new HttpFloor(proc, port);
  }

  post(body: Uint8Array): Promise<Uint8Array> {
    return new Promise<Uint8Array>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: this.port, method: 'POST', path: '/commands', agent: this.agent, headers: { 'content-type': 'application/octet-stream', 'content-length': body.length } },
        (res) => {
          const parts: Buffer[] = [];
          res.on('data', (d: Buffer) => parts.push(d));
          res.on('end', () => resolve(new Uint8Array(Buffer.concat(parts))));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  async stop(): Promise<void> {
    this.agent.destroy();
    await stopChild(this.proc, 3000);
  }
}

/** SIGTERM a child, SIGKILL it after `graceMs`; resolves once it is gone. */
export function stopChild(proc: ChildProcess, graceMs: number): Promise<void> {
  if (proc.exitCode !== null) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const t = setTimeout(() => {
      proc.kill('SIGKILL');
      resolve();
    }, graceMs);
    proc.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    proc.kill('SIGTERM');
  });
}
