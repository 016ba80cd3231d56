/**
 * `npm run bench:store`: the commit latency a durable store adds to a measurement. The same small
 * measurement (64 bytes, host hashing, TPM 1.2 and 2.0) through the in-process app (app.inject, no
 * network) on the memory, SQLite (temporary DATA_DIR) and PostgreSQL (BENCH_DATABASE_URL, default the
 * local test database, a temporary schema) stores, interleaved; prints the medians of the whole
 * request and of the store commit alone. PostgreSQL is skipped with a message when it does not answer.
 */
import { aroundCommits } from '../test/support/store-wrap.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { buildApp, type App } from '../src/app.js';
import { loadConfig, type StoreConfig } from '../src/config.js';
import { createStore } from '../src/sessions/open-store.js';
import type { SessionStore } from '../src/sessions/store.js';

const N = Number(process.env.BENCH_STORE_N ?? 300);
const PG_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

/** Times every commit of `inner`. */
function timed(inner: SessionStore, commits: number[]): SessionStore {
  return aroundCommits(inner, async (_w, commit) => {
    const t0 = performance.now();
    await commit();
    commits.push(performance.now() - t0);
  });
}

interface Subject {
  name: string;
  app: App;
  ids: string[];
  request: number[];
  commit: number[];
  close: () => Promise<void>;
}

async function subject(name: string, sc: StoreConfig, cleanup: () => Promise<void>): Promise<Subject> {
  const commits: number[] = [];
  const store = createStore(sc);
  const app = await buildApp({ ...loadConfig({}), store: sc }, { store: timed(store, commits) });
  const ids: string[] = [];
  for (const family of ['1.2', '2.0']) {
    const r = await app.app.inject({ method: 'POST', url: '/v1/sessions', payload: { family } });
    ids.push((r.json() as { id: string }).id);
  }
  return {
    name,
    app,
    ids,
    request: [],
    commit: commits,
    close: async () => {
      await app.app.close();
      await store.close();
      await cleanup();
    },
  };
}

async function pgAnswers(): Promise<boolean> {
  const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
  try {
    await c.connect();
    await c.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => undefined);
  }
}

const subjects: Subject[] = [await subject('memory', { driver: 'memory' }, async () => undefined)];
const dir = mkdtempSync(join(tmpdir(), 'tpm-measure-bench-'));
subjects.push(await subject('sqlite', { driver: 'sqlite', dataDir: dir }, async () => rmSync(dir, { recursive: true, force: true })));
if (await pgAnswers()) {
  const schema = `bench_${randomBytes(4).toString('hex')}`;
  subjects.push(
    await subject('postgres', { driver: 'postgres', url: PG_URL, schema, poolMax: 4 }, async () => {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await c.end();
    }),
  );
} else {
  console.warn(`!!!!! PostgreSQL does not answer at ${PG_URL.replace(/\/\/[^@]*@/, '//')}: its row is skipped !!!!!`);
}

const body = randomBytes(64);
for (let i = 0; i < N; i++) {
  for (const s of subjects) {
    const id = s.ids[i % 2] ?? '';
    const t0 = performance.now();
    const r = await s.app.app.inject({ method: 'POST', url: `/v1/sessions/${id}/measurements?pcr=18&eventData=b${i}`, payload: body, headers: { 'content-type': 'application/octet-stream' } });
    s.request.push(performance.now() - t0);
    if (r.statusCode !== 201) throw new Error(`${s.name}: measurement answered ${r.statusCode}: ${r.body}`);
  }
}
const base = median(subjects[0]?.request ?? []);
console.log(`measurement (64 bytes, host hashing), ${N} each, interleaved, medians:`);
for (const s of subjects) {
  const req = median(s.request);
  const commit = s.name === 'memory' ? NaN : median(s.commit);
  console.log(`  ${s.name.padEnd(8)} request ${req.toFixed(3)} ms  added vs memory ${(req - base).toFixed(3)} ms${Number.isNaN(commit) ? '' : `  commit alone ${commit.toFixed(3)} ms`}`);
}
for (const s of subjects) await s.close();
