/**
 * API keys, rate limiting and load shedding, as Fastify hooks installed before any route.
 *
 * - API keys (RFC 6750 bearer tokens): `Authorization: Bearer <key>`. The service knows only
 *   SHA-256 hashes of its keys (API_KEYS); a presented key is hashed and compared with every
 *   configured hash in constant time (crypto.timingSafeEqual, no early exit). A route's operation in
 *   openapi.yaml says whether it takes a key (`security` lists `bearerAuth`); route() puts that in
 *   the route's config as `auth`. No key, a malformed header or an unknown key: 401 problem with
 *   `WWW-Authenticate: Bearer` (RFC 6750 §3). The owner of the request is the key's id.
 * - Rate limit (@fastify/rate-limit): RATE_LIMIT_MAX requests per RATE_LIMIT_WINDOW_SECONDS per
 *   key, or per client address when the service runs open; 429 problem with Retry-After.
 * - Load shedding (@fastify/under-pressure): 503 problem with Retry-After while the event loop is
 *   late or memory is above its limit. Probes and /metrics are exempt (config `limits: false`).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import underPressure from '@fastify/under-pressure';
import type { ApiKey, Config } from '../config.js';
import { DomainError } from '../errors.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route needs an API key when the service has keys. */
    auth?: boolean;
    /** false: no rate limit and no load shedding (probes, /metrics, the contract). */
    limits?: boolean;
  }
}

/** SHA-256 of a key's UTF-8 bytes: what API_KEYS lists (hex, after `sha256:`). */
export function hashApiKey(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

/** RFC 6750 §2.1 b64token; longer tokens than any key we issue are refused unhashed. */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;
const MAX_TOKEN = 512;

export type AuthOutcome = { owner: string } | { refused: 'missing' | 'malformed' | 'unknown' };

/** Which configured key (by id) the Authorization header carries, compared in constant time. */
export function authenticate(header: string | undefined, keys: readonly ApiKey[]): AuthOutcome {
  if (header === undefined || header === '') return { refused: 'missing' };
  if (header.length > MAX_TOKEN + 16) return { refused: 'malformed' };
  const m = BEARER.exec(header);
  if (!m) return { refused: 'malformed' };
  const presented = hashApiKey(m[1] as string);
  let owner: string | undefined;
  // Every configured hash is compared, whatever matched before: the time does not say which.
  for (const k of keys) {
    if (timingSafeEqual(presented, k.hash) && owner === undefined) owner = k.id;
  }
  return owner === undefined ? { refused: 'unknown' } : { owner };
}

const owners = new WeakMap<FastifyRequest, string>();

/**
 * The owner of a request: the id of the API key it authenticated with, or null when the service
 * runs without keys. Every session route passes it to the session manager (another owner's session
 * is a 404).
 */
export function ownerOf(request: FastifyRequest): string | null {
  return owners.get(request) ?? null;
}

const CHALLENGE = 'Bearer realm="tpm-measure"';

const DETAIL = {
  missing: 'this operation needs an API key: send Authorization: Bearer <key>',
  malformed: 'the Authorization header is not "Bearer <key>"',
  unknown: 'the API key is not valid',
} as const;

export async function installSecurity(app: FastifyInstance, config: Config): Promise<void> {
  const shedding = config.shedEventLoopDelayMs > 0 || config.shedHeapUsedBytes > 0 || config.shedRssBytes > 0;
  if (shedding) {
    // Registered first: a shed request costs no hashing and no rate-limit bookkeeping.
    await app.register(underPressure, {
      maxEventLoopDelay: config.shedEventLoopDelayMs,
      maxHeapUsedBytes: config.shedHeapUsedBytes,
      maxRssBytes: config.shedRssBytes,
      sampleInterval: config.shedSampleMs,
      retryAfter: config.shedRetryAfterSeconds,
      pressureHandler: (request, _reply, type) => {
        if (request.routeOptions.config.limits === false) return undefined;
        return Promise.reject(new DomainError('overloaded', `the service is overloaded (${type}); retry later`, {}, config.shedRetryAfterSeconds));
      },
    });
  }

  const keys = config.apiKeys;
  if (keys.length > 0) {
    app.addHook('onRequest', async (request, reply) => {
      if (request.routeOptions.config.auth !== true) return;
      const outcome = authenticate(request.headers.authorization, keys);
      if ('owner' in outcome) {
        owners.set(request, outcome.owner);
        return;
      }
      reply.header('www-authenticate', outcome.refused === 'missing' ? CHALLENGE : `${CHALLENGE}, error="${outcome.refused === 'malformed' ? 'invalid_request' : 'invalid_token'}"`);
      throw new DomainError('unauthorized', DETAIL[outcome.refused]);
    });
  }

  if (config.rateLimitMax > 0) {
    await app.register(rateLimit, {
      global: true,
      max: config.rateLimitMax,
      timeWindow: config.rateLimitWindowMs,
      // Runs after the API-key hook (route-level hooks follow the global ones): keyed by the key's id.
      keyGenerator: (request) => {
        const owner = ownerOf(request);
        return owner === null ? `ip:${request.ip}` : `key:${owner}`;
      },
      errorResponseBuilder: (_request, context) =>
        new DomainError('rate-limited', `more than ${context.max} requests in ${config.rateLimitWindowMs / 1000} s (RATE_LIMIT_MAX per RATE_LIMIT_WINDOW_SECONDS); retry in ${context.after}`, { limit: context.max, windowSeconds: config.rateLimitWindowMs / 1000 }, Math.ceil(context.ttl / 1000)),
    });
  }
}
