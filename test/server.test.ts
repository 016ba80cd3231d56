/**
 * The process entry point: `src/server.ts` reads its configuration from the environment, logs JSON
 * with pino, serves on HOST:PORT and exits cleanly on SIGTERM/SIGINT.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';

function startProcess(env: Record<string, string>): Promise<{ url: string; proc: ReturnType<typeof spawn>; lines: string[] }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    env: { ...process.env, HOST: '127.0.0.1', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`server did not start: ${lines.join('\n')}`)), 30_000);
    let buf = '';
    proc.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        lines.push(line);
        const m = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(line);
        if (m) {
          clearTimeout(t);
          resolve({ url: m[1]!, proc, lines });
        }
      }
    });
    proc.on('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`server exited early with ${code}: ${lines.join('\n')}`));
    });
  });
}

describe('server process', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`serves, logs JSON, and exits 0 on ${signal}`, async () => {
      const { url, proc, lines } = await startProcess({ LOG_LEVEL: 'info' });
      const r = await fetch(`${url}/healthz`);
      expect(r.status).toBe(200);
      expect(await r.json()).toEqual({ status: 'ok', sessions: 0 });
      const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
      proc.kill(signal);
      expect(await exited).toBe(0);
      const json = lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { level: number; msg: string });
      expect(json.length).toBeGreaterThan(0);
      expect(json.some((l) => l.msg === 'shutting down')).toBe(true);
    });
  }

  it('refuses a bad configuration value with a clear message', async () => {
    const proc = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], { env: { ...process.env, PORT: 'eighty' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => proc.on('exit', resolve));
    expect(code).not.toBe(0);
    expect(err).toMatch(/PORT must be an integer/);
  });
});
