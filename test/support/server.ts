/**
 * Starts the real service on 127.0.0.1 (random port) and gives a client generated from openapi.yaml
 * (openapi-typescript types + openapi-fetch). Every response the client receives is checked against
 * the contract: its status must be listed for the operation, its media type listed for that status,
 * and a JSON body must validate against the schema. Violations fail the test that caused them.
 */
import createClient from 'openapi-fetch';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifyInstance } from 'fastify';
import { buildApp, type AppOptions } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import { loadContract, type Operation } from '../../src/http/openapi.js';
import type { HttpContext } from '../../src/http/context.js';
import type { paths } from '../generated/api.js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
const contract = loadContract();
const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);
const validators = new Map<object, ReturnType<Ajv['compile']>>();

function findOperation(method: string, pathname: string): Operation | undefined {
  for (const op of contract.operations.values()) {
    if (op.method !== method) continue;
    const re = new RegExp('^' + op.path.replace(/\{[^}]+\}/g, '[^/]+') + '$');
    if (re.test(pathname)) return op;
  }
  return undefined;
}

/** Check one response against the contract; returns a list of violations. */
export async function contractViolations(method: string, url: string, res: Response): Promise<string[]> {
  const { pathname } = new URL(url);
  const op = findOperation(method, pathname);
  if (!op) return res.status === 404 || res.status === 405 ? [] : [`${method} ${pathname}: not in openapi.yaml`];
  const byStatus = op.responses[String(res.status)];
  if (!byStatus) return [`${op.operationId}: status ${res.status} is not documented`];
  const mt = (res.headers.get('content-type') ?? '').split(';')[0]?.trim() ?? '';
  const types = Object.keys(byStatus);
  if (types.length === 0) return res.status === 204 || mt === '' ? [] : [`${op.operationId} ${res.status}: body of type ${mt} but none documented`];
  if (!types.includes(mt)) return [`${op.operationId} ${res.status}: media type ${mt} not in ${types.join(', ')}`];
  const schema = byStatus[mt];
  if (!schema || !mt.includes('json')) return [];
  const body: unknown = await res.clone().json();
  let v = validators.get(schema);
  if (!v) {
    v = ajv.compile(schema);
    validators.set(schema, v);
  }
  return v(body) ? [] : [`${op.operationId} ${res.status}: body does not match schema: ${ajv.errorsText(v.errors)}`];
}

export interface TestServer {
  app: FastifyInstance;
  ctx: HttpContext;
  baseUrl: string;
  client: ReturnType<typeof createClient<paths>>;
  /** fetch that also checks the contract. */
  fetch: (input: string, init?: RequestInit) => Promise<Response>;
  violations: string[];
  close: () => Promise<void>;
}

export async function startServer(overrides: Partial<Config> = {}, opts: AppOptions = {}): Promise<TestServer> {
  // Sessions in memory unless the test names a store (the store suites do). No rate limit and no
  // load shedding unless a test asks: tests share the event loop with the server (a busy test would
  // shed its own requests) and some send thousands of requests.
  const config: Config = { ...loadConfig({}), store: { driver: 'memory' }, port: 0, host: '127.0.0.1', rateLimitMax: 0, shedEventLoopDelayMs: 0, ...overrides };
  const { app, ctx } = await buildApp(config, opts);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  if (!addr || typeof addr === 'string') throw new Error('no address');
  const baseUrl = `http://127.0.0.1:${addr.port}`;
  const violations: string[] = [];
  const checkedFetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const req = input instanceof Request ? input : new Request(input, init);
    const res = await fetch(req.clone());
    violations.push(...(await contractViolations(req.method, req.url, res)));
    return res;
  };
  const client = createClient<paths>({ baseUrl, fetch: (r: Request) => checkedFetch(r) });
  return {
    app,
    ctx,
    baseUrl,
    client,
    fetch: (path: string, init?: RequestInit) => checkedFetch(baseUrl + path, init),
    violations,
    close: () => app.close(),
  };
}

export function hex(b: ArrayBuffer | Uint8Array): string {
  return Buffer.from(b instanceof Uint8Array ? b : new Uint8Array(b)).toString('hex');
}
