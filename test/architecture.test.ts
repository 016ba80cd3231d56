/**
 * Architecture rules that review alone would let slip: the domain core (everything but http/,
 * app.ts, server.ts) imports nothing from Fastify and never logs; no `any` anywhere in src/.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
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

describe('architecture', () => {
  it('reads the source tree', () => expect(all.length).toBeGreaterThan(50));

  it('the domain core imports nothing from Fastify or pino', () => {
    const offenders = all.filter((f) => !adapter(f.path) && /from ['"](fastify|@fastify\/[^'"]+|pino)['"]/.test(f.text)).map((f) => f.path);
    expect(offenders).toEqual([]);
  });

  it('the domain core never logs to the console', () => {
    const offenders = all.filter((f) => !adapter(f.path) && !f.path.startsWith('cli/') && /\bconsole\.(log|info|warn|error|debug)\(/.test(code(f.text))).map((f) => f.path);
    expect(offenders).toEqual([]);
  });

  it('no explicit any in src/', () => {
    const offenders = all.filter((f) => /(:\s*any\b|\bas any\b|<any>|any\[\])/.test(code(f.text))).map((f) => f.path);
    expect(offenders).toEqual([]);
  });
});
