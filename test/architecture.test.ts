/**
 * Architecture rules that review alone would let slip: the domain core (everything but http/,
 * app.ts, server.ts) imports nothing from Fastify or from http/ and never logs; no `any` anywhere in src/.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = new URL('../src/', import.meta.url).pathname;

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const all = files(SRC).map((p) => ({ path: relative(SRC, p), text: readFileSync(p, 'utf8') }));
const adapter = (p: string) => p.startsWith('http/') || p === 'app.ts' || p === 'server.ts';
const code = (text: string) => text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
const byPath = new Map(all.map((f) => [f.path, f]));

/**
 * The src/-relative .ts files a file imports or re-exports (relative specifiers); with
 * `runtime`, only what is loaded at run time (no `import type` / `export type`).
 */
function imports(path: string, runtime = false): string[] {
  const f = byPath.get(path);
  if (!f) return [];
  return [...code(f.text).matchAll(/\b(?:import|export)\s+(type\s)?[^;]*?\bfrom\s+['"](\.{1,2}\/[^'"]+)\.js['"]/g)]
    .filter((m) => !(runtime && m[1]))
    .map((m) => normalize(join(dirname(path), `${m[2]}.ts`)));
}

/** Every src/ file loaded at run time when `path` is, `path` included. */
function loaded(path: string): Set<string> {
  const seen = new Set<string>();
  const todo = [path];
  for (let p = todo.pop(); p !== undefined; p = todo.pop()) {
    if (seen.has(p)) continue;
    seen.add(p);
    todo.push(...imports(p, true));
  }
  return seen;
}

describe('architecture', () => {
  it('reads the source tree', () => expect(all.length).toBeGreaterThan(50));

  it('the domain core imports nothing from Fastify or pino', () => {
    const offenders = all.filter((f) => !adapter(f.path) && /from ['"](fastify|@fastify\/[^'"]+|pino)['"]/.test(f.text)).map((f) => f.path);
    expect(offenders).toEqual([]);
  });

  it('the domain core never imports from the HTTP adapter (src/http/)', () => {
    expect(imports('app.ts').filter((to) => to.startsWith('http/')).length, 'the import scan resolves app.ts → http/').toBeGreaterThan(0);
    const offenders = all.filter((f) => !adapter(f.path)).flatMap((f) => imports(f.path).filter((to) => to.startsWith('http/')).map((to) => `${f.path} → ${to}`));
    expect(offenders).toEqual([]);
  });

  it('the domain core never logs to the console', () => {
    const offenders = all.filter((f) => !adapter(f.path) && !f.path.startsWith('cli/') && /\bconsole\.(log|info|warn|error|debug)\(/.test(code(f.text))).map((f) => f.path);
    expect(offenders).toEqual([]);
  });

  it('naming a return code loads no engine: tpm/rc-name.ts loads only the two return-code tables', () => {
    expect([...loaded('tpm/rc-name.ts')].sort()).toEqual(['tpm/rc-name.ts', 'tpm12/return-codes.ts', 'tpm2/rc.ts']);
  });

  it('no explicit any in src/', () => {
    const offenders = all.filter((f) => /(:\s*any\b|\bas any\b|<any>|any\[\])/.test(code(f.text))).map((f) => f.path);
    expect(offenders).toEqual([]);
  });
});
