/**
 * openapi.yaml is the single source of truth for the HTTP API. This module loads it, resolves
 * its local $refs, and derives for each operation the Fastify route schema (params, querystring,
 * JSON body) and the request media types it accepts. Routes are registered by operationId, so a
 * route can't exist without its contract.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';

export type JsonSchema = Record<string, unknown>;

export interface Operation {
  operationId: string;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';
  /** OpenAPI path, e.g. /v1/sessions/{id} */
  path: string;
  /** Fastify URL, e.g. /v1/sessions/:id */
  url: string;
  /** Media types the request body may have (empty: no body). */
  requestTypes: string[];
  bodyRequired: boolean;
  schema: { params?: JsonSchema; querystring?: JsonSchema; body?: JsonSchema };
  /** The operation takes the bearer API key (its `security` lists `bearerAuth`); false: open by design. */
  keyed: boolean;
  /** Response schemas by status code and media type, for contract tests. */
  responses: Record<string, Record<string, JsonSchema | undefined>>;
}

export interface OpenApiContract {
  text: string;
  document: Record<string, unknown>;
  operations: Map<string, Operation>;
}

function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    try {
      readFileSync(join(dir, 'openapi.yaml'));
      return dir;
    } catch {
      dir = dirname(dir);
    }
  }
  throw new Error('openapi.yaml not found above ' + fileURLToPath(import.meta.url));
}

export const OPENAPI_PATH = join(findRoot(), 'openapi.yaml');

/** Keywords that document rather than validate; dropped from the schemas given to Ajv. */
const ANNOTATIONS = new Set(['description', 'example', 'examples', 'contentEncoding', 'contentMediaType', 'summary', 'deprecated', 'readOnly', 'writeOnly']);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Resolve local "#/..." references and strip annotation keywords. No cycles in our document. */
export function deref(node: unknown, root: Record<string, unknown>, depth = 0): unknown {
  if (depth > 64) throw new Error('openapi: $ref nesting too deep');
  if (Array.isArray(node)) return node.map((n) => deref(n, root, depth + 1));
  if (!isObject(node)) return node;
  if (typeof node.$ref === 'string') {
    const ref = node.$ref;
    if (!ref.startsWith('#/')) throw new Error(`openapi: only local refs are supported (${ref})`);
    let target: unknown = root;
    for (const part of ref.slice(2).split('/')) {
      if (!isObject(target)) throw new Error(`openapi: bad ref ${ref}`);
      target = target[part.replace(/~1/g, '/').replace(/~0/g, '~')];
    }
    if (target === undefined) throw new Error(`openapi: dangling ref ${ref}`);
    return deref(target, root, depth + 1);
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) {
    if (ANNOTATIONS.has(k) && typeof v !== 'object') continue;
    if (k === 'format' && v === 'binary') continue;
    out[k] = deref(v, root, depth + 1);
  }
  return out;
}

interface ParamSpec {
  name: string;
  in: string;
  required?: boolean;
  schema?: JsonSchema;
}

function paramsSchema(params: ParamSpec[], where: string): JsonSchema | undefined {
  const mine = params.filter((p) => p.in === where);
  if (mine.length === 0) return undefined;
  const properties: Record<string, unknown> = {};
  const required: string[] = [];
  for (const p of mine) {
    properties[p.name] = p.schema ?? {};
    if (p.required) required.push(p.name);
  }
  // Unknown query parameters are rejected: a typo must not silently fall back to a default.
  return { type: 'object', properties, required, additionalProperties: false };
}

const METHODS = ['get', 'post', 'put', 'delete', 'patch'] as const;

export function loadContract(path = OPENAPI_PATH): OpenApiContract {
  const text = readFileSync(path, 'utf8');
  const document = parse(text) as Record<string, unknown>;
  const operations = new Map<string, Operation>();
  const paths = document.paths;
  if (!isObject(paths)) throw new Error('openapi: no paths');
  for (const [p, item] of Object.entries(paths)) {
    if (!isObject(item)) continue;
    const shared = (deref(item.parameters ?? [], document) as ParamSpec[]) ?? [];
    for (const m of METHODS) {
      const op = item[m];
      if (!isObject(op)) continue;
      const operationId = op.operationId;
      if (typeof operationId !== 'string') throw new Error(`openapi: ${m} ${p} has no operationId`);
      const params = [...shared, ...((deref(op.parameters ?? [], document) as ParamSpec[]) ?? [])];
      const body = isObject(op.requestBody) ? (deref(op.requestBody, document) as Record<string, unknown>) : undefined;
      const content = body && isObject(body.content) ? body.content : {};
      const requestTypes = Object.keys(content);
      const jsonBody = content['application/json'];
      const schema: Operation['schema'] = {};
      const ps = paramsSchema(params, 'path');
      if (ps) schema.params = ps;
      const qs = paramsSchema(params, 'query');
      if (qs) schema.querystring = qs;
      if (isObject(jsonBody) && isObject(jsonBody.schema)) {
        // Validate JSON bodies only: with other media types (multipart, octet-stream) the body is a
        // stream the handler reads, so the schema is keyed by content type (Fastify ≥ 4 form).
        schema.body = requestTypes.length === 1 ? jsonBody.schema : { content: { 'application/json': { schema: jsonBody.schema } } };
      }
      const responses: Operation['responses'] = {};
      const rawResponses = isObject(op.responses) ? (deref(op.responses, document) as Record<string, unknown>) : {};
      for (const [status, r] of Object.entries(rawResponses)) {
        const media: Record<string, JsonSchema | undefined> = {};
        if (isObject(r) && isObject(r.content)) {
          for (const [mt, c] of Object.entries(r.content)) {
            media[mt] = isObject(c) && isObject(c.schema) ? (c.schema as JsonSchema) : undefined;
          }
        }
        responses[status] = media;
      }
      operations.set(operationId, {
        operationId,
        method: m.toUpperCase() as Operation['method'],
        path: p,
        url: p.replace(/\{([^}]+)\}/g, ':$1'),
        requestTypes,
        bodyRequired: body?.required === true,
        schema,
        keyed: Array.isArray(op.security) && op.security.some((req) => isObject(req) && 'bearerAuth' in req),
        responses,
      });
    }
  }
  return { text, document, operations };
}
