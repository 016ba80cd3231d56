/**
 * openapi.yaml is the single source of truth: these tests fail when routes, the error registry or
 * the generated client drift from it.
 */
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROBLEMS, problemType } from '../../src/errors.js';
import { loadContract, OPENAPI_PATH } from '../../src/http/openapi.js';
import { startServer, type TestServer } from '../support/server.js';

const contract = loadContract();
let srv: TestServer;
beforeAll(async () => {
  srv = await startServer();
});
afterAll(async () => srv.close());

describe('routes ↔ openapi.yaml', () => {
  it('every operation in the contract has a route, and every route an operation', () => {
    expect([...srv.ctx.registered].sort()).toEqual([...contract.operations.keys()].sort());
  });

  it('every registered Fastify route is a contract path with the same method', () => {
    const routes = srv.app.printRoutes({ commonPrefix: false });
    for (const op of contract.operations.values()) {
      expect(srv.app.hasRoute({ method: op.method, url: op.url })).toBe(true);
    }
    expect(routes).toBeTruthy();
  });

  it('every operation has an operationId, a 2xx response and, for session paths, a 404', () => {
    for (const op of contract.operations.values()) {
      expect(Object.keys(op.responses).some((s) => s.startsWith('2'))).toBe(true);
      if (op.path.includes('{id}')) expect(op.responses['404']).toBeDefined();
    }
  });

  it('GET /openapi.yaml serves the contract byte for byte', async () => {
    const res = await srv.fetch('/openapi.yaml');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/yaml\b/);
    expect(Buffer.from(await res.arrayBuffer()).equals(readFileSync(OPENAPI_PATH))).toBe(true);
  });

  it('the file served is the file `npm test` lints (npm run lint:api, redocly.yaml)', () => {
    const root = dirname(OPENAPI_PATH);
    const scripts = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    expect(scripts.test).toContain('npm run lint:api');
    const linted = /\bredocly lint (\S+)/.exec(scripts['lint:api'] ?? '')?.[1];
    expect(linted).toBeDefined();
    expect(resolve(root, linted ?? '')).toBe(OPENAPI_PATH);
    // The script names the file; redocly.yaml must not point the linter at other APIs instead.
    const config = parse(readFileSync(join(root, 'redocly.yaml'), 'utf8')) as { apis?: Record<string, { root: string }> };
    for (const api of Object.values(config.apis ?? {})) expect(resolve(root, api.root)).toBe(OPENAPI_PATH);
  });
});

describe('security ↔ openapi.yaml', () => {
  it('every /v1 operation and /metrics take the bearer API key (or none, on a service without keys); the others are open', () => {
    const doc = contract.document as { paths: Record<string, Record<string, { security?: unknown }>>; components: { securitySchemes?: Record<string, unknown> } };
    expect(doc.components.securitySchemes?.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    for (const op of contract.operations.values()) {
      const security = doc.paths[op.path]?.[op.method.toLowerCase()]?.security;
      expect(security, `${op.method} ${op.path}`).toEqual(op.path.startsWith('/v1/') || op.path === '/metrics' ? [{ bearerAuth: [] }, {}] : []);
    }
  });
});

describe('problem types ↔ openapi.yaml', () => {
  it('the error registry and the Problem.type enum list exactly the same types', () => {
    const doc = contract.document as { components: { schemas: { Problem: { properties: { type: { enum: string[] } } } } } };
    const documented = doc.components.schemas.Problem.properties.type.enum;
    const registry = Object.keys(PROBLEMS).map((k) => problemType(k as keyof typeof PROBLEMS));
    expect([...documented].sort()).toEqual([...registry].sort());
  });
});

describe('generated client ↔ openapi.yaml', () => {
  it('test/generated/api.d.ts is what openapi-typescript makes of the contract today', () => {
    const dir = mkdtempSync(join(tmpdir(), 'oat-'));
    try {
      const out = join(dir, 'api.d.ts');
      execFileSync(process.execPath, [join('node_modules', 'openapi-typescript', 'bin', 'cli.js'), OPENAPI_PATH, '--redocly', join('test', 'support', 'openapi-ts.redocly.yaml'), '--default-non-nullable', 'false', '-o', out], { stdio: 'pipe' });
      expect(readFileSync(out, 'utf8')).toBe(readFileSync(new URL('../generated/api.d.ts', import.meta.url), 'utf8'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
