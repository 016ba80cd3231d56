/**
 * buildApp(config) → a ready Fastify instance. Tests import this; only server.ts has process side
 * effects (listen, signals). The HTTP layer is a thin adapter over the domain modules.
 */
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import multipart from '@fastify/multipart';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { Config } from './config.js';
import { loadContract } from './http/openapi.js';
import { SessionManager } from './sessions/manager.js';
import { setMemoryBudget } from './sessions/memory.js';
import type { SessionStore } from './sessions/store.js';
import { createStore } from './sessions/open-store.js';
import { errorToProblem, problem, sendProblem } from './http/problem.js';
import { parseJsonBody } from './http/json.js';
import { closeEventLogWorker } from './http/eventlog-offload.js';
import { DomainError } from './errors.js';
import { clientErrorHandler, frameworkErrorHandler, installTimeouts, methodsFor } from './http/edge.js';
import type { HttpContext } from './http/context.js';
import { registerSessionRoutes } from './http/routes/sessions.js';
import { registerTpmRoutes } from './http/routes/tpm.js';
import { registerMeasurementRoutes } from './http/routes/measurements.js';
import { registerEventLogRoutes } from './http/routes/event-log.js';
import { registerTisRoutes } from './http/routes/tis.js';
import { registerEventLogsRoutes } from './http/routes/event-logs.js';
import { registerMetaRoutes } from './http/routes/meta.js';
import { registerLaunchRoutes } from './http/routes/launches.js';
import { registerSocketRoutes } from './http/routes/socket.js';
import { SocketRegistry } from './socket/registry.js';
import { Metrics } from './http/metrics.js';
import { installSecurity } from './http/security.js';

export interface AppOptions {
  logger?: FastifyServerOptions['logger'];
  store?: SessionStore;
  now?: () => number;
  /** Also export the process metrics (CPU, memory, event-loop lag) on /metrics (server.ts does). */
  processMetrics?: boolean;
}

export interface App {
  app: FastifyInstance;
  ctx: HttpContext;
}

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

function makeAjv(coerce: boolean): Ajv {
  const ajv = new Ajv({
    coerceTypes: coerce ? 'array' : false,
    useDefaults: true,
    removeAdditional: false,
    allErrors: true,
    strict: false,
  });
  addFormats(ajv);
  return ajv;
}

export async function buildApp(config: Config, opts: AppOptions = {}): Promise<App> {
  const app = Fastify({
    logger: opts.logger ?? false,
    bodyLimit: config.maxJsonBytes,
    // Large uploads can take a while (the measurement path streams them): a whole request may take up
    // to REQUEST_TIMEOUT_SECONDS, and a connection on which no byte moves for IDLE_TIMEOUT_SECONDS is closed.
    requestTimeout: config.requestTimeoutMs,
    // Requests that arrive while the server closes get our own 503 problem (hook below), not Fastify's JSON.
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    // How often Node looks for requests past requestTimeout (its default, 30 s, would let a 1 s limit run 30 s).
    http: { connectionsCheckingInterval: Math.max(250, Math.min(5000, Math.floor(config.requestTimeoutMs / 4) || 5000)) },
    clientErrorHandler,
    frameworkErrors: frameworkErrorHandler,
  });

  // JSON bodies are validated without type coercion; path and query parameters with it.
  const strictAjv = makeAjv(false);
  const coercingAjv = makeAjv(true);
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? strictAjv : coercingAjv).compile(schema));

  // JSON bodies are checked against a member/depth budget before they are parsed.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, parseJsonBody(body as string, config.maxJsonMembers));
    } catch (e) {
      done(e as Error, undefined);
    }
  });
  // application/octet-stream bodies reach the handlers as streams (never buffered whole here).
  app.addContentTypeParser('application/octet-stream', (_req, payload, done) => done(null, payload));
  await app.register(multipart, { throwFileSizeLimit: true });

  setMemoryBudget(config.memoryBudgetBytes);
  const contract = loadContract();
  // The session store: opened (schema migrated) before the first request; closed with the app.
  const store: SessionStore = opts.store ?? createStore(config.store);
  await store.open();
  const metrics: Metrics = new Metrics(
    {
      sessions: async () => ({ open: await sessions.count(), queued: sessions.queued() }),
    },
    { processMetrics: opts.processMetrics === true },
  );
  const sessions: SessionManager = new SessionManager(store, {
    onCommit: (ms) => metrics.observeStoreCommit(ms / 1000),
    ttlMs: config.sessionTtlMs,
    maxSessions: config.maxSessions,
    maxSessionsPerOwner: config.maxSessionsPerKey,
    observer: metrics,
    ...(opts.now ? { now: opts.now } : {}),
  });
  const sockets = new SocketRegistry({
    host: config.socketHost,
    portRange: config.socketPortRange,
    idleMs: config.socketIdleMs,
    holdMs: config.socketHoldMs,
    ...(opts.now ? { now: opts.now } : {}),
  });
  const ctx: HttpContext = { config, sessions, contract, sockets, registered: new Set(), metrics };

  app.setErrorHandler((err, request, reply) => {
    const { doc, headers } = errorToProblem(err, request);
    if (doc.status >= 500) request.log.error({ err }, 'request failed');
    else request.log.info({ type: doc.type, detail: doc.detail }, 'request refused');
    return sendProblem(reply, doc, headers);
  });
  const allowed = methodsFor(contract);
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    const methods = allowed(path);
    if (methods.length > 0) {
      return sendProblem(reply, problem('method-not-allowed', `${path} does not take ${request.method}; it takes ${methods.join(', ')}`, request.url), { allow: methods.join(', ') });
    }
    return sendProblem(reply, problem('not-found', `no route for ${request.method} ${path}`, request.url));
  });

  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onRequest', async (_request, reply) => {
    if (!closing) return;
    reply.header('connection', 'close');
    throw new DomainError('not-ready', 'the service is shutting down', {}, 5);
  });
  app.addHook('onSend', async (_request, reply) => {
    if (closing) reply.header('connection', 'close');
  });
  installTimeouts(app, config.idleTimeoutMs, config.requestTimeoutMs);
  metrics.install(app);
  // Load shedding, API keys, rate limit: before the routes (the rate limit attaches to routes as they are added).
  await installSecurity(app, config);
  registerMetaRoutes(app, ctx);
  registerSessionRoutes(app, ctx);
  registerTpmRoutes(app, ctx);
  registerMeasurementRoutes(app, ctx);
  registerEventLogRoutes(app, ctx);
  registerTisRoutes(app, ctx);
  registerEventLogsRoutes(app, ctx);
  registerLaunchRoutes(app, ctx);
  registerSocketRoutes(app, ctx);

  app.addHook('onReady', async () => sessions.startSweeper());
  app.addHook('onClose', async () => {
    sessions.stopSweeper();
    await sockets.closeAll();
    await closeEventLogWorker();
    if (!opts.store) await store.close();
  });
  return { app, ctx };
}
