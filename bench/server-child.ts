/**
 * The service under test as its own process (so its RSS and CPU are its own): buildApp with the
 * default configuration (no rate limit, no load shedding) — the SQLite store, here in a temporary
 * DATA_DIR removed at exit unless DATA_DIR or DATABASE_URL is set — listening on 127.0.0.1 on a
 * free port, printed as one JSON line.
 * Started by bench/lib/server.ts; stops on SIGTERM or when its stdin closes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';

const tempData = process.env.DATA_DIR || process.env.DATABASE_URL ? undefined : mkdtempSync(join(tmpdir(), 'tpm-measure-bench-data-'));
if (tempData) process.on('exit', () => rmSync(tempData, { recursive: true, force: true }));
// One client address drives the bench: the per-address rate limit and load shedding would measure
// themselves, not the service, so both are off unless the environment sets them.
const config = loadConfig({ RATE_LIMIT_MAX: '0', SHED_EVENT_LOOP_DELAY_MS: '0', ...process.env, HOST: '127.0.0.1', PORT: '0', ...(tempData ? { DATA_DIR: tempData } : {}) });
const { app } = await buildApp(config, { logger: false });
await app.listen({ host: '127.0.0.1', port: 0 });
const addr = app.server.address();
const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
process.stdout.write(`${JSON.stringify({ port, pid: process.pid })}\n`);

let closing = false;
const stop = (): void => {
  if (closing) return;
  closing = true;
  const force = setTimeout(() => process.exit(0), 3000);
  force.unref();
  void app.close().then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.stdin.on('end', stop);
process.stdin.resume();
