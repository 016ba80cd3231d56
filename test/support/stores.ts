/**
 * The store drivers under test. PostgreSQL at 127.0.0.1:5432 (database `test`, user `postgres`,
 * TEST_DATABASE_URL to change it): each test run gets its own schema, dropped afterwards. Locally
 * the PostgreSQL suites skip with a loud message when no server answers; in CI (CI=true) an
 * unreachable server fails the run, so they can never be skipped silently there.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describe } from 'vitest';
import type { StoreConfig } from '../../src/config.js';

export const PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

let reachable: boolean | undefined;

/** Whether PostgreSQL answers a query at PG_URL (checked once, in a child process, bounded). */
export function postgresReachable(): boolean {
  if (reachable === undefined) {
    const script = `const pg=require('pg');const c=new pg.Client({connectionString:process.argv[1],connectionTimeoutMillis:3000});c.connect().then(()=>c.query('select 1')).then(()=>process.exit(0),()=>process.exit(1));`;
    reachable = spawnSync(process.execPath, ['-e', script, PG_URL], { timeout: 10_000, cwd: process.cwd() }).status === 0;
  }
  return reachable;
}

export function requirePostgres(what: string): boolean {
  if (postgresReachable()) return true;
  const hint = `(no PostgreSQL answers at ${PG_URL.replace(/\/\/[^@]*@/, '//')}; start it, e.g. pg_ctlcluster 15 main start)`;
  if (process.env.CI === 'true') throw new Error(`PostgreSQL is required in CI for "${what}" ${hint}`);
  console.warn(`\n!!!!! SKIPPING "${what}": ${hint} !!!!!\n`);
  return false;
}

export function describeWithPostgres(name: string, fn: () => void): void {
  if (requirePostgres(name)) describe(name, fn);
  else describe.skip(name, fn);
}

/** A store configuration for a test, and how to remove what it left. */
export interface TestStore {
  name: 'sqlite' | 'postgres' | 'memory';
  config: StoreConfig;
  /** Environment variables that select this store for a child-process server. */
  env: Record<string, string>;
  cleanup(): Promise<void>;
}

export function sqliteStore(): TestStore {
  const dir = mkdtempSync(join(tmpdir(), 'tpm-measure-store-'));
  return {
    name: 'sqlite',
    config: { driver: 'sqlite', dataDir: dir },
    env: { DATA_DIR: dir, STORE: 'sqlite', DATABASE_URL: '' },
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A fresh schema in the test database; dropped by cleanup(). */
export function postgresStore(): TestStore {
  const schema = `t_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  return {
    name: 'postgres',
    config: { driver: 'postgres', url: PG_URL, schema, poolMax: 16 },
    env: { DATABASE_URL: PG_URL, DATABASE_SCHEMA: schema, STORE: '' },
    cleanup: async () => {
      if (!postgresReachable()) return;
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      try {
        await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        await c.end();
      }
    },
  };
}

/** Run a query against the test database (outside any store). */
export async function pgQuery(sql: string, params: unknown[] = []): Promise<pg.QueryResult> {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    return await c.query(sql, params);
  } finally {
    await c.end();
  }
}
