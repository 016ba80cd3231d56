/** SQLite group commit: concurrent writes share one transaction, and a failing one fails alone. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteSessionStore } from '../../src/sessions/sqlite-store.js';
import type { StoredSession } from '../../src/sessions/store.js';
import type { SessionHead } from '../../src/sessions/session.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function openStore(): Promise<SqliteSessionStore> {
  const dir = mkdtempSync(join(tmpdir(), 'group-commit-'));
  dirs.push(dir);
  const store = new SqliteSessionStore(dir);
  await store.open();
  return store;
}

const row = (id: string): StoredSession => ({ id, owner: null, createdAt: 1, lastUsedAt: 1, version: 1, head: { marker: id } as unknown as SessionHead, events: [] });

describe('SQLite group commit', () => {
  it('writes issued together land together, each durable when its promise resolves', async () => {
    const store = await openStore();
    await Promise.all(['a', 'b', 'c', 'd'].map((id) => store.insert(row(id))));
    expect(await store.ids()).toEqual(['a', 'b', 'c', 'd']);
    const txns = await Promise.all(['a', 'b', 'c'].map((id) => store.begin(id)));
    await Promise.all(txns.map((t, i) => t.commit({ version: 2, lastUsedAt: 2, head: { n: i } as unknown as SessionHead, eventsFrom: 0, events: [] })));
    for (const id of ['a', 'b', 'c']) expect((await store.load(id))?.version).toBe(2);
    await store.close();
  });

  it('a write that fails in the batch (its row changed under it) is undone alone', async () => {
    const store = await openStore();
    await Promise.all(['a', 'b'].map((id) => store.insert(row(id))));
    const [ta, tb] = await Promise.all([store.begin('a'), store.begin('b')]);
    await store.delete('b');
    const results = await Promise.allSettled([
      ta!.commit({ version: 2, lastUsedAt: 2, head: { ok: true } as unknown as SessionHead, eventsFrom: 0, events: [] }),
      tb!.commit({ version: 2, lastUsedAt: 2, head: { ok: false } as unknown as SessionHead, eventsFrom: 0, events: [] }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected']);
    expect((await store.load('a'))?.version).toBe(2);
    expect(await store.load('b')).toBeUndefined();
    await store.close();
  });
});
