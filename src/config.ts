/**
 * Typed configuration from environment variables. Every setting has an embedded default so that
 * `npm start` works on a fresh machine with no external server. Documented in README.md.
 */
import { totalmem } from 'node:os';

export interface Config {
  host: string;
  port: number;
  logLevel: string;
  /** Idle sessions are deleted after this many milliseconds without a request. */
  sessionTtlMs: number;
  /** Most sessions alive at once; one more answers 429 with Retry-After. */
  maxSessions: number;
  /** Largest measurement upload in bytes (413 beyond). */
  maxUploadBytes: number;
  /**
   * Largest upload measured with hashing=tpm (413 beyond): the data goes through the TPM's own
   * hash (TPM 1.2 SHA-1 thread, TPM 2.0 event sequence), which is meant for small blobs like the MBI.
   */
  maxTpmHashingBytes: number;
  /** Largest raw TPM command accepted by /commands in bytes (413 beyond). */
  maxCommandBytes: number;
  /** Largest /drtm body in bytes. */
  maxDrtmBytes: number;
  /** Default event-log size (TrenchBoot GRUB allocates 8 pages = 32768 bytes, `txt.c`). */
  defaultLogSize: number;
  /** Largest event-log size a session may ask for. */
  maxLogSize: number;
  /** Largest event log accepted by /event-logs endpoints. */
  maxEventLogBytes: number;
  /** Most records an event log may have (422 beyond). */
  maxEventLogEvents: number;
  /** Largest event data of one record in an event log (422 beyond). */
  maxEventDataBytes: number;
  /** Largest JSON body any route accepts (routes that need less accept less). */
  maxJsonBytes: number;
  /** Most members + array elements a JSON body may have (413 beyond, checked before parsing). */
  maxJsonMembers: number;
  /** Resident-memory budget: new sessions and log growth are refused (503) beyond it; Infinity = none. */
  memoryBudgetBytes: number;
  /** Largest event data given with one measurement (400 beyond). */
  maxMeasurementEventDataBytes: number;
  /**
   * Longest a request may hold a session's turn while it waits on its client (a hashing=tpm upload
   * streams through the TPM inside the turn); past it the request is aborted with 408, nothing applied.
   */
  turnTimeoutMs: number;
  /** A connection with no bytes moving for this long is closed (stalled uploads, idle keep-alive). */
  idleTimeoutMs: number;
  /** Longest a whole request may take to arrive (0 = no limit besides the idle timeout). */
  requestTimeoutMs: number;
  /** Address the per-session swtpm socket listeners bind to; loopback only (SOCKET_HOST). */
  socketHost: string;
  /** Inclusive port range of the socket listeners (SOCKET_PORT_RANGE, "lo-hi"). */
  socketPortRange: [number, number];
  /** A socket client silent this long is disconnected (SOCKET_IDLE_SECONDS). */
  socketIdleMs: number;
  /** Longest a socket client keeps the session's turn inside a SHA-1 thread or dynamic launch (SOCKET_SEQUENCE_HOLD_MS). */
  socketHoldMs: number;
  /**
   * API keys (API_KEYS: comma-separated `sha256:<hex>` hashes of the keys; the keys themselves are
   * never configured). Empty: the service runs open, which loadConfig allows on loopback only.
   */
  apiKeys: ApiKey[];
  /** GET /metrics without a key even when keys are configured (METRICS_OPEN). */
  metricsOpen: boolean;
  /** Most sessions one API key may hold at once (MAX_SESSIONS_PER_KEY; applies when keys are configured). */
  maxSessionsPerKey: number;
  /** Requests per key (or per client address when open) per window; 0 = no rate limit (RATE_LIMIT_MAX). */
  rateLimitMax: number;
  /** The rate limit's window (RATE_LIMIT_WINDOW_SECONDS). */
  rateLimitWindowMs: number;
  /** Load shedding (503 + Retry-After): mean event-loop delay above this many ms; 0 = off (SHED_EVENT_LOOP_DELAY_MS). */
  shedEventLoopDelayMs: number;
  /** Load shedding: V8 heap used above this many bytes; 0 = off (SHED_HEAP_USED_BYTES). */
  shedHeapUsedBytes: number;
  /** Load shedding: resident set size above this many bytes; 0 = off (SHED_RSS_BYTES). */
  shedRssBytes: number;
  /** How often the load figures are sampled (SHED_SAMPLE_MS). */
  shedSampleMs: number;
  /** Retry-After of a shed request (SHED_RETRY_AFTER_SECONDS). */
  shedRetryAfterSeconds: number;
  /** On SIGTERM/SIGINT, in-flight requests get this long to finish before they are cut (SHUTDOWN_GRACE_SECONDS). */
  shutdownGraceMs: number;
  /** Where sessions are kept (README "Durable sessions"). */
  store: StoreConfig;
}

/** One configured API key: its SHA-256 (the key itself is never configured) and the owner id derived from it. */
export interface ApiKey {
  /** SHA-256 of the key's UTF-8 bytes. */
  hash: Buffer;
  /** Owner id of the sessions the key creates: the first 16 hex digits of the hash (also safe to log). */
  id: string;
}

/** The owner id of a key hash (hex): short, stable, and not the key. */
export function keyIdOfHash(hashHex: string): string {
  return hashHex.slice(0, 16);
}

/** API_KEYS: `sha256:<64 hex>` entries separated by commas (whitespace around entries ignored). */
export function parseApiKeys(raw: string | undefined): ApiKey[] {
  if (raw === undefined || raw.trim() === '') return [];
  const keys: ApiKey[] = [];
  const ids = new Set<string>();
  for (const [i, entry] of raw.split(',').entries()) {
    const e = entry.trim();
    const m = /^sha256:([0-9a-fA-F]{64})$/.exec(e);
    if (!m) {
      // Never echo the entry: a key pasted by mistake must not reach the logs.
      throw new Error(`API_KEYS entry ${i + 1} is not "sha256:<64 hex digits>" (the hash of a key, as \`npm run keys -- new\` prints it; never the key itself)`);
    }
    const hex = (m[1] as string).toLowerCase();
    const id = keyIdOfHash(hex);
    if (ids.has(id)) throw new Error(`API_KEYS entry ${i + 1} repeats a key (or shares its first 16 hex digits with another one)`);
    ids.add(id);
    keys.push({ hash: Buffer.from(hex, 'hex'), id });
  }
  return keys;
}

function boolEnv(env: NodeJS.ProcessEnv, name: string, def: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return def;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new Error(`${name} must be true or false, got ${JSON.stringify(raw)}`);
}

export type StoreConfig =
  | { driver: 'sqlite'; dataDir: string }
  | { driver: 'postgres'; url: string; schema: string; poolMax: number }
  | { driver: 'memory' };

/**
 * DATABASE_URL=postgres://… → PostgreSQL (DATABASE_SCHEMA, PG_POOL_MAX); otherwise SQLite in
 * DATA_DIR (default ./data; ':memory:' keeps it in memory); STORE=memory keeps nothing durable.
 */
function storeEnv(env: NodeJS.ProcessEnv): StoreConfig {
  const url = env.DATABASE_URL;
  if (url !== undefined && url !== '') {
    if (!/^postgres(ql)?:\/\//.test(url)) throw new Error('DATABASE_URL must be a postgres:// or postgresql:// URL');
    const schema = env.DATABASE_SCHEMA === undefined || env.DATABASE_SCHEMA === '' ? 'public' : env.DATABASE_SCHEMA;
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(schema)) throw new Error(`DATABASE_SCHEMA must be a plain SQL identifier, got ${JSON.stringify(schema)}`);
    return { driver: 'postgres', url, schema, poolMax: intEnv(env, 'PG_POOL_MAX', 16, 2, 1000) };
  }
  const store = env.STORE ?? '';
  if (store === 'memory') return { driver: 'memory' };
  if (store !== '' && store !== 'sqlite') throw new Error(`STORE must be sqlite or memory (PostgreSQL: set DATABASE_URL), got ${JSON.stringify(store)}`);
  return { driver: 'sqlite', dataDir: env.DATA_DIR === undefined || env.DATA_DIR === '' ? './data' : env.DATA_DIR };
}

/** 127.0.0.0/8, ::1 or localhost. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  const m = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(h);
  return m !== null && m.slice(1).every((x) => Number(x) <= 255);
}

function socketHostEnv(env: NodeJS.ProcessEnv, keyed: boolean): string {
  const host = env.SOCKET_HOST === undefined || env.SOCKET_HOST === '' ? '127.0.0.1' : env.SOCKET_HOST;
  if (!isLoopbackHost(host) && !keyed) {
    // The swtpm socket protocol has no authentication: anyone who reaches the port drives the TPM.
    // Off loopback, at least the ports must be known only to the key that opened them.
    throw new Error(`SOCKET_HOST must be a loopback address (127.0.0.0/8, ::1, localhost) when the service runs without API_KEYS: the TPM sockets have no authentication; got ${JSON.stringify(host)}`);
  }
  return host;
}

function hostEnv(env: NodeJS.ProcessEnv, keyed: boolean): string {
  const host = env.HOST === undefined || env.HOST === '' ? '127.0.0.1' : env.HOST;
  if (!isLoopbackHost(host) && !keyed) {
    throw new Error(`HOST is ${JSON.stringify(host)}, not a loopback address, and API_KEYS is not set: without API keys anyone who reaches the port could read and change every session. Set API_KEYS (npm run keys -- new) or listen on 127.0.0.1`);
  }
  return host;
}

function portRangeEnv(env: NodeJS.ProcessEnv, name: string, def: [number, number]): [number, number] {
  const raw = env[name];
  if (raw === undefined || raw === '') return def;
  const m = /^(\d{1,5})-(\d{1,5})$/.exec(raw.trim());
  const lo = m ? Number(m[1]) : NaN;
  const hi = m ? Number(m[2]) : NaN;
  if (!m || lo < 1024 || hi > 65535 || hi <= lo) {
    throw new Error(`${name} must be "lo-hi" with 1024 <= lo < hi <= 65535 (two adjacent ports per socket), got ${JSON.stringify(raw)}`);
  }
  return [lo, hi];
}

function intEnv(env: NodeJS.ProcessEnv, name: string, def: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new Error(`${name} must be an integer in [${min}, ${max}], got ${JSON.stringify(raw)}`);
  }
  return n;
}

/** MEMORY_BUDGET_MB: default half the machine's memory, at most 4 GiB; 0 = no budget. */
function memoryBudgetEnv(env: NodeJS.ProcessEnv): number {
  const def = Math.min(4096, Math.floor(totalmem() / 2 / 2 ** 20));
  const mb = intEnv(env, 'MEMORY_BUDGET_MB', def, 0, 1024 * 1024);
  return mb === 0 ? Infinity : mb * 2 ** 20;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const apiKeys = parseApiKeys(env.API_KEYS);
  const keyed = apiKeys.length > 0;
  return {
    host: hostEnv(env, keyed),
    port: intEnv(env, 'PORT', 8080, 0, 65535),
    logLevel: env.LOG_LEVEL ?? 'info',
    sessionTtlMs: intEnv(env, 'SESSION_TTL_SECONDS', 3600, 1, 30 * 24 * 3600) * 1000,
    maxSessions: intEnv(env, 'MAX_SESSIONS', 1000, 1, 1_000_000),
    maxUploadBytes: intEnv(env, 'MAX_UPLOAD_BYTES', 2 * 1024 ** 3, 1, Number.MAX_SAFE_INTEGER),
    maxTpmHashingBytes: intEnv(env, 'MAX_TPM_HASHING_BYTES', 64 * 1024 * 1024, 1, 1024 ** 3),
    maxCommandBytes: intEnv(env, 'MAX_COMMAND_BYTES', 65536, 10, 16 * 1024 * 1024),
    maxDrtmBytes: intEnv(env, 'MAX_DRTM_BYTES', 64 * 1024 * 1024, 0, 1024 ** 3),
    defaultLogSize: intEnv(env, 'DEFAULT_LOG_SIZE', 32768, 48, 64 * 1024 * 1024),
    maxLogSize: intEnv(env, 'MAX_LOG_SIZE', 16 * 1024 * 1024, 48, 1024 ** 3),
    maxEventLogBytes: intEnv(env, 'MAX_EVENT_LOG_BYTES', 16 * 1024 * 1024, 1, 1024 ** 3),
    maxEventLogEvents: intEnv(env, 'MAX_EVENT_LOG_EVENTS', 65536, 1, 10_000_000),
    maxEventDataBytes: intEnv(env, 'MAX_EVENT_DATA_BYTES', 4 * 1024 * 1024, 0, 1024 ** 3),
    maxJsonBytes: intEnv(env, 'MAX_JSON_BYTES', 32 * 1024 * 1024, 1024, 1024 ** 3),
    maxJsonMembers: intEnv(env, 'MAX_JSON_MEMBERS', 50_000, 100, 10_000_000),
    memoryBudgetBytes: memoryBudgetEnv(env),
    maxMeasurementEventDataBytes: intEnv(env, 'MAX_MEASUREMENT_EVENT_DATA_BYTES', 65536, 0, 16 * 1024 * 1024),
    turnTimeoutMs: intEnv(env, 'SESSION_TURN_TIMEOUT_SECONDS', 30, 1, 3600) * 1000,
    idleTimeoutMs: intEnv(env, 'IDLE_TIMEOUT_SECONDS', 60, 1, 3600) * 1000,
    requestTimeoutMs: intEnv(env, 'REQUEST_TIMEOUT_SECONDS', 3600, 0, 7 * 24 * 3600) * 1000,
    socketHost: socketHostEnv(env, keyed),
    socketPortRange: portRangeEnv(env, 'SOCKET_PORT_RANGE', [20000, 29999]),
    socketIdleMs: intEnv(env, 'SOCKET_IDLE_SECONDS', 300, 1, 7 * 24 * 3600) * 1000,
    socketHoldMs: intEnv(env, 'SOCKET_SEQUENCE_HOLD_MS', 2000, 1, 60_000),
    apiKeys,
    metricsOpen: boolEnv(env, 'METRICS_OPEN', false),
    maxSessionsPerKey: intEnv(env, 'MAX_SESSIONS_PER_KEY', 100, 1, 1_000_000),
    rateLimitMax: intEnv(env, 'RATE_LIMIT_MAX', 6000, 0, 100_000_000),
    rateLimitWindowMs: intEnv(env, 'RATE_LIMIT_WINDOW_SECONDS', 60, 1, 24 * 3600) * 1000,
    shedEventLoopDelayMs: intEnv(env, 'SHED_EVENT_LOOP_DELAY_MS', 1000, 0, 600_000),
    shedHeapUsedBytes: intEnv(env, 'SHED_HEAP_USED_BYTES', 0, 0, Number.MAX_SAFE_INTEGER),
    shedRssBytes: intEnv(env, 'SHED_RSS_BYTES', 0, 0, Number.MAX_SAFE_INTEGER),
    shedSampleMs: intEnv(env, 'SHED_SAMPLE_MS', 1000, 10, 60_000),
    shedRetryAfterSeconds: intEnv(env, 'SHED_RETRY_AFTER_SECONDS', 10, 1, 3600),
    shutdownGraceMs: intEnv(env, 'SHUTDOWN_GRACE_SECONDS', 30, 0, 3600) * 1000,
    store: storeEnv(env),
  };
}
