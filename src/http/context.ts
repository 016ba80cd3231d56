/**
 * What every route module gets: configuration, the session manager, the contract, and a helper that
 * registers a handler under an operationId taken from openapi.yaml (method, URL and validation
 * schemas all come from the contract).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config.js';
import type { SessionManager } from '../sessions/manager.js';
import type { JsonSchema, OpenApiContract } from './openapi.js';
import { strictQuery } from './query.js';
import type { SocketRegistry } from '../socket/registry.js';
import { DomainError } from '../errors.js';
import type { Metrics } from './metrics.js';
export { ownerOf } from './security.js';

export interface HttpContext {
  config: Config;
  sessions: SessionManager;
  contract: OpenApiContract;
  /** Per-session swtpm socket listeners. */
  sockets: SocketRegistry;
  /** operationIds registered so far (a test compares them with the contract). */
  registered: Set<string>;
  metrics: Metrics;
}

export interface RouteOptions {
  bodyLimit?: number;
  /** Overrides the contract: the operation is served without a key (/metrics with METRICS_OPEN). */
  open?: boolean;
  /** false: no rate limit, no load shedding (probes, /metrics). */
  limits?: boolean;
  /** Runs before schema validation (e.g. to pick the body schema by the body's shape). */
  beforeValidation?: (request: FastifyRequest) => void;
}

export type Handler = (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

/** Base media type of a request ("application/json; charset=utf-8" → "application/json"). */
export function mediaType(request: FastifyRequest): string | undefined {
  const ct = request.headers['content-type'];
  return ct ? ct.split(';')[0]?.trim().toLowerCase() : undefined;
}

export function hasBody(request: FastifyRequest): boolean {
  const len = request.headers['content-length'];
  return (len !== undefined && len !== '0') || request.headers['transfer-encoding'] !== undefined;
}

function queryParamTypes(schema: JsonSchema | undefined): Map<string, string> {
  const out = new Map<string, string>();
  const props = schema?.properties;
  if (typeof props !== 'object' || props === null) return out;
  for (const [name, p] of Object.entries(props as Record<string, { type?: unknown }>)) if (typeof p.type === 'string') out.set(name, p.type);
  return out;
}

/**
 * What schema coercion would let through is refused: a parameter given twice, an integer written
 * other than as decimal digits (` `, `0x2`, `1e0`, `2.0` would coerce), a boolean other than
 * true/false, text that is not percent-encoded UTF-8.
 */
function checkQuery(url: string, types: Map<string, string>): void {
  for (const [name, values] of strictQuery(url)) {
    if (values.length > 1) throw new DomainError('invalid-request', `query parameter ${name} is given ${values.length} times`);
    const v = values[0] ?? '';
    const type = types.get(name);
    if (type === 'integer' && !/^[0-9]{1,15}$/.test(v)) {
      throw new DomainError('invalid-request', `query parameter ${name} must be written as decimal digits, got ${JSON.stringify(v)}`);
    }
    if (type === 'boolean' && v !== 'true' && v !== 'false') {
      throw new DomainError('invalid-request', `query parameter ${name} must be true or false, got ${JSON.stringify(v)}`);
    }
  }
}

/** A route's JSON body limit: what the route needs, never above MAX_JSON_BYTES. */
export function jsonLimit(ctx: HttpContext, needed: number): number {
  return Math.min(ctx.config.maxJsonBytes, needed);
}

export function route(app: FastifyInstance, ctx: HttpContext, operationId: string, handler: Handler, opts: RouteOptions = {}): void {
  const op = ctx.contract.operations.get(operationId);
  if (!op) throw new Error(`operation ${operationId} is not in openapi.yaml`);
  ctx.registered.add(operationId);
  const queryTypes = queryParamTypes(op.schema.querystring);
  app.route({
    method: op.method,
    url: op.url,
    schema: op.schema,
    // The contract says which operations take the API key (security: bearerAuth); the hook in
    // security.ts enforces it when the service has keys.
    config: { auth: op.keyed && opts.open !== true, ...(opts.limits === false ? { limits: false, rateLimit: false as const } : {}) },
    ...(opts.bodyLimit !== undefined ? { bodyLimit: opts.bodyLimit } : {}),
    // The request media type must be one the contract lists for this operation.
    preValidation: async (request) => {
      checkQuery(request.url, queryTypes);
      opts.beforeValidation?.(request);
      if (op.requestTypes.length === 0) return;
      const mt = mediaType(request);
      if (mt === undefined) {
        // No body where the body is optional: validate as an empty JSON object (all defaults).
        if (!op.bodyRequired && !hasBody(request) && op.schema.body && request.body === undefined) request.body = {};
        if (op.bodyRequired && hasBody(request)) throw new DomainError('unsupported-media-type', `a Content-Type is required; this operation accepts ${op.requestTypes.join(', ')}`);
        if (op.bodyRequired && !hasBody(request)) throw new DomainError('invalid-request', `a request body is required (${op.requestTypes.join(', ')})`);
        return;
      }
      if (!op.requestTypes.includes(mt)) {
        throw new DomainError('unsupported-media-type', `Content-Type ${mt} is not accepted here; use ${op.requestTypes.join(' or ')}`);
      }
    },
    handler,
  });
}

/** Pick the best of `offered` for the Accept header (RFC 9110 §12.5.1); undefined = 406. */
export function negotiate(request: FastifyRequest, offered: readonly string[]): string | undefined {
  const header = request.headers.accept;
  if (!header) return offered[0];
  const ranges = header.split(',').map((part) => {
    const [range, ...params] = part.trim().split(';');
    let q = 1;
    for (const p of params) {
      const [k, v] = p.trim().split('=');
      if (k === 'q' && v !== undefined) q = Number(v);
    }
    return { range: (range ?? '').trim().toLowerCase(), q: Number.isFinite(q) ? q : 0 };
  });
  let best: { type: string; q: number; spec: number } | undefined;
  for (const type of offered) {
    for (const r of ranges) {
      const [main] = type.split('/');
      const spec = r.range === type ? 3 : r.range === `${main}/*` ? 2 : r.range === '*/*' ? 1 : 0;
      if (spec === 0 || r.q <= 0) continue;
      if (!best || r.q > best.q || (r.q === best.q && spec > best.spec)) best = { type, q: r.q, spec };
    }
  }
  return best?.type;
}
