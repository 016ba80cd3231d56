/**
 * The process entry point: `src/server.ts` reads its configuration from the environment, logs JSON
 * with pino, serves on HOST:PORT and exits cleanly on SIGTERM/SIGINT.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
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

  /** Run the server with `env` and expect it to refuse to start: its exit code and stderr. */
  async function refusal(env: Record<string, string>): Promise<{ code: number | null; err: string; out: string }> {
    const proc = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], { env: { ...process.env, PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    let out = '';
    proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const t = setTimeout(() => proc.kill('SIGKILL'), 30_000);
    const code = await new Promise<number | null>((resolve) => proc.on('exit', resolve));
    clearTimeout(t);
    return { code, err, out };
  }

  it('refuses to start open (no API_KEYS) on a non-loopback HOST, naming the variables, without a stack trace', async () => {
    for (const host of ['0.0.0.0', '::', '192.0.2.1']) {
      const { code, err, out } = await refusal({ HOST: host, API_KEYS: '' });
      expect(code, host).toBe(1);
      expect(err).toMatch(/HOST/);
      expect(err).toMatch(/API_KEYS/);
      expect(err).not.toMatch(/\n\s+at /);
      expect(out).not.toMatch(/Server listening/);
    }
  });

  it('refuses a malformed API_KEYS entry without echoing it', async () => {
    const pasted = `tpmm_${randomBytes(32).toString('base64url')}`; // a key pasted where its hash belongs
    const { code, err } = await refusal({ HOST: '127.0.0.1', API_KEYS: pasted });
    expect(code).toBe(1);
    expect(err).toMatch(/API_KEYS entry 1/);
    expect(err).not.toContain(pasted);
  });

  it('npm run keys -- new: a key and its API_KEYS entry, which the server accepts; the key never reaches the log (Authorization redacted)', async () => {
    const out = execFileSync(process.execPath, ['scripts/keys.mjs', 'new'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const m = /^API key: +(tpmm_[A-Za-z0-9_-]{43})\nAPI_KEYS entry: (sha256:[0-9a-f]{64})\n$/.exec(out);
    expect(m, out).not.toBeNull();
    const [, key, entry] = m as unknown as [string, string, string];
    expect(entry).toBe(`sha256:${createHash('sha256').update(key).digest('hex')}`);
    // `keys hash` gives the same entry for the same key.
    expect(execFileSync(process.execPath, ['scripts/keys.mjs', 'hash'], { input: `${key}\n`, encoding: 'utf8' })).toBe(`${entry}\n`);
    const wrong = `tpmm_${randomBytes(32).toString('base64url')}`;

    const { url, proc, lines } = await startProcess({ LOG_LEVEL: 'info', API_KEYS: entry });
    try {
      const ok = await fetch(`${url}/v1/sessions`, { method: 'POST', headers: { authorization: `Bearer ${key}` } });
      expect(ok.status).toBe(201);
      const bad = await fetch(`${url}/v1/sessions`, { headers: { authorization: `Bearer ${wrong}` } });
      expect(bad.status).toBe(401);
      expect(bad.headers.get('www-authenticate')).toMatch(/^Bearer/);
      const none = await fetch(`${url}/metrics`);
      expect(none.status).toBe(401);
      const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
      proc.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (proc.exitCode === null) proc.kill('SIGKILL');
    }
    const log = lines.join('\n');
    const json = lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { req?: { headers?: Record<string, string> } });
    // Requests are logged with their headers, and the credential is replaced.
    const withAuth = json.filter((l) => l.req?.headers?.authorization !== undefined);
    expect(withAuth.length).toBeGreaterThanOrEqual(2);
    for (const l of withAuth) expect(l.req?.headers?.authorization).toBe('[Redacted]');
    expect(log).not.toContain(key);
    expect(log).not.toContain(wrong);
  });
});

