/**
 * The only module with process side effects: configuration from the environment, the pino logger,
 * listen, and graceful shutdown on SIGTERM/SIGINT.
 */
import { loadConfig } from './config.js';
import { buildApp } from './app.js';
import { closeHashPool } from './hash/parallel.js';

let config: ReturnType<typeof loadConfig>;
let built: Awaited<ReturnType<typeof buildApp>>;
try {
  config = loadConfig();
  // Opens the session store and applies its schema migrations (refuses a newer schema).
  built = await buildApp(config, { logger: { level: config.logLevel } });
} catch (err) {
  process.stderr.write(`tpm-measure could not start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
const { app } = built;

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
