/**
 * The only module with process side effects: configuration from the environment, the pino logger,
 * listen, and graceful shutdown on SIGTERM/SIGINT.
 */
import { setFlagsFromString } from 'node:v8';
import { loadConfig } from './config.js';
import { buildApp } from './app.js';
import { closeHashPool } from './hash/parallel.js';

// V8 lets the heap grow to up to 4× what survived the last full GC when allocation is fast; a service
// holding thousands of sessions then keeps hundreds of MiB it does not use. Growing by at most 30 %
// per GC keeps RSS near the live data at a small cost in GC time (BENCHMARKS.md row 7). Read by V8 at
// every GC, so setting it here, before any load, takes effect.
setFlagsFromString('--heap-growing-percent=30');

const config = loadConfig();
const { app } = await buildApp(config, {
  logger: { level: config.logLevel },
});

let closing = false;
async function shutdown(signal: string): Promise<void> {
  if (closing) return;
  closing = true;
  app.log.info({ signal }, 'shutting down');
  const force = setTimeout(() => {
    app.log.error('graceful shutdown timed out; exiting');
    process.exit(1);
  }, 10_000);
  force.unref();
  try {
    await app.close();
    await closeHashPool();
    process.exit(0);
  } catch (err) {
    app.log.error({ err }, 'error during shutdown');
    process.exit(1);
  }
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));

try {
  await app.listen({ host: config.host, port: config.port });
} catch (err) {
  app.log.error({ err }, 'could not start');
  process.exit(1);
}
