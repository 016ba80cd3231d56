/**
 * The only module with process side effects: configuration from the environment, the pino logger,
 * listen, and graceful shutdown on SIGTERM/SIGINT.
 *
 * Shutdown: stop accepting connections; requests already in flight get SHUTDOWN_GRACE_SECONDS to
 * finish; requests still running then have their connections cut (an upload cut short applies
 * nothing: every change runs in a session transaction that rolls back); the store is closed (the
 * app's onClose hooks); exit 0. Requests arriving on open keep-alive connections meanwhile get a
 * 503 problem.
 */
import { setFlagsFromString } from 'node:v8';
import { loadConfig, type Config } from './config.js';
import { buildApp } from './app.js';
import { closeHashPool } from './hash/parallel.js';
import { loggerOptions } from './http/logging.js';
import { closeGracefully } from './http/shutdown.js';

// V8 lets the heap grow to up to 4× what survived the last full GC when allocation is fast; a service
// holding thousands of sessions then keeps hundreds of MiB it does not use. Growing by at most 30 %
// per GC keeps RSS near the live data at a small cost in GC time (BENCHMARKS.md row 7). Read by V8 at
// every GC, so setting it here, before any load, takes effect.
setFlagsFromString('--heap-growing-percent=30');

let config: Config;
let built: Awaited<ReturnType<typeof buildApp>>;
try {
  config = loadConfig();
  // Opens the session store and applies its schema migrations (refuses a newer schema).
  built = await buildApp(config, { logger: loggerOptions(config.logLevel), processMetrics: true });
} catch (err) {
  // A configuration or store error is the operator's to fix: say what is wrong, no stack trace.
  process.stderr.write(`tpm-measure could not start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
const { app } = built;

let closing = false;
async function shutdown(signal: string): Promise<void> {
  if (closing) return;
  closing = true;
  app.log.info({ signal, graceSeconds: config.shutdownGraceMs / 1000 }, 'shutting down');
  const force = setTimeout(() => {
    app.log.error('graceful shutdown did not finish; exiting');
    process.exit(1);
  }, config.shutdownGraceMs + 10_000);
  force.unref();
  try {
    await closeGracefully(app, config.shutdownGraceMs);
    await closeHashPool();
    app.log.info('shut down');
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
  if (config.apiKeys.length === 0) app.log.warn('no API_KEYS: the service runs open (loopback only)');
} catch (err) {
  app.log.error({ err }, 'could not start');
  process.exit(1);
}
