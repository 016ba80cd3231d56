/** The store the configuration names (DATABASE_URL → PostgreSQL, else SQLite under DATA_DIR). */
import type { StoreConfig } from '../config.js';
import { MemorySessionStore, type SessionStore } from './store.js';
import { SqliteSessionStore } from './sqlite-store.js';
import { PgSessionStore } from './pg-store.js';

export function createStore(c: StoreConfig): SessionStore {
  switch (c.driver) {
    case 'memory':
      return new MemorySessionStore();
    case 'sqlite':
      return new SqliteSessionStore(c.dataDir);
    case 'postgres':
      return new PgSessionStore({ url: c.url, schema: c.schema, poolMax: c.poolMax });
  }
}
