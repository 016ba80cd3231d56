/**
 * SQLite group commit: concurrent writes share one transaction, and a failing one fails alone; a
 * write is acknowledged only after the WAL is synced (the store syncs it itself, off the event
 * loop); checkpoints keep everything; another connection's commits are noticed.
 */
import fs, { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SqliteSessionStore } from '../../src/sessions/sqlite-store.js';
import type { StoredSession } from '../../src/sessions/store.js';
import type { SessionHead } from '../../src/sessions/session.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function openStore(at?: string): Promise<SqliteSessionStore> {
  const dir = at ?? mkdtempSync(join(tmpdir(), 'group-commit-'));
  if (!at) dirs.push(dir);
  const store = new SqliteSessionStore(dir);
  await store.open();
  return store;
}

afterEach(() => {
  vi.restoreAllMocks();
});

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

  it('a commit is acknowledged only after fdatasync of the WAL returned, and a failed sync fails it', async () => {
    const store = await openStore();
    await store.insert(row('a'));
    const real = fs.fdatasync;
    const held: (() => void)[] = [];
    let fail = false;
    const spy = vi.spyOn(fs, 'fdatasync').mockImplementation(((fd: number, cb: (e: NodeJS.ErrnoException | null) => void) => {
      held.push(() => (fail ? cb(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' })) : real(fd, cb)));
    }) as typeof fs.fdatasync);
    const t = await store.begin('a');
    let settled = false;
    const done = t.commit({ version: 2, lastUsedAt: 2, head: { n: 1 } as unknown as SessionHead, eventsFrom: 0, events: [] }).then(() => (settled = true));
    for (let i = 0; i < 20 && held.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(held.length).toBe(1);
    // The file synced is the WAL.
    expect(fs.fstatSync(spy.mock.calls[0]?.[0] as number).ino).toBe(statSync(join(dirs.at(-1)!, 'sessions.sqlite-wal')).ino);
    await new Promise((r) => setTimeout(r, 20));
    expect(settled).toBe(false); // committed in SQLite, not yet on disk: not acknowledged
    held.shift()!();
    await done;
    expect(settled).toBe(true);
    // A sync that fails: the write is not acknowledged.
    fail = true;
    const t2 = await store.begin('a');
    const failed = t2.commit({ version: 3, lastUsedAt: 3, head: { n: 2 } as unknown as SessionHead, eventsFrom: 0, events: [] });
    for (let i = 0; i < 20 && held.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    held.shift()!();
    await expect(failed).rejects.toThrow(/EIO/);
    spy.mockRestore();
    await store.close();
  });

  it('checkpoints (synchronous=FULL, then the WAL truncated) keep every write; a reopened store has them all', async () => {
    const store = await openStore();
    const dir = dirs.at(-1)!;
    const big = 'x'.repeat(40_000);
    const ids = Array.from({ length: 150 }, (_, i) => `s${i}`);
    for (const id of ids) await store.insert({ ...row(id), head: { big, id } as unknown as SessionHead });
    // 150 × 40 KB passed the 4 MiB threshold at least once: the WAL was truncated and is small again.
    expect(statSync(join(dir, 'sessions.sqlite-wal')).size).toBeLessThan(4 * 1024 * 1024);
    await store.close();
    const again = await openStore(dir);
    expect(await again.ids()).toEqual([...ids].sort());
    expect(((await again.load('s149'))?.head as unknown as { id: string }).id).toBe('s149');
    await again.close();
  });

  it("another connection's commit is noticed (PRAGMA data_version): begin() reads the new version", async () => {
    const store = await openStore();
    await store.insert(row('a'));
    expect((await store.begin('a')).version).toBe(1);
    await new Promise((r) => setImmediate(r));
    const other = new Database(join(dirs.at(-1)!, 'sessions.sqlite'));
    other.prepare('UPDATE sessions SET version = 7 WHERE id = ?').run('a');
    other.close();
    await new Promise((r) => setImmediate(r));
    expect((await store.begin('a')).version).toBe(7);
    await store.close();
  });
});

describe('SQLite store: what a connection remembers', () => {
  it('count() follows inserts, deletes and expiry on this connection, and another connection’s commits', async () => {
    const store = await openStore();
    expect(await store.count()).toBe(0);
    await Promise.all(['a', 'b', 'c'].map((id) => store.insert(row(id))));
    expect(await store.count()).toBe(3);
    await store.delete('b');
    expect(await store.count()).toBe(2);
    await store.delete('nope');
    expect(await store.count()).toBe(2);
    expect(await store.expire(2, new Set(['c']))).toEqual(['a']);
    expect(await store.count()).toBe(1);
    // A failed write (duplicate id) leaves the count right.
    await expect(store.insert(row('c'))).rejects.toThrow();
    expect(await store.count()).toBe(1);
    await new Promise((r) => setImmediate(r));
    const other = new Database(join(dirs.at(-1)!, 'sessions.sqlite'));
    other.prepare("INSERT INTO sessions (id, owner, created_at, last_used_at, version, event_count, head) VALUES ('x', NULL, 1, 1, 1, 0, '{}')").run();
    other.close();
    await new Promise((r) => setImmediate(r));
    expect(await store.count()).toBe(2);
    await store.close();
  });

  it('last_used_at moves on commit only by lastUsedMinAdvanceMs or more; a commit that appends no event keeps the stored events', async () => {
    const store = await openStore();
    await store.insert({ ...row('a'), lastUsedAt: 1000, events: [{ n: 1 } as never, { n: 2 } as never] });
    const usedAt = async (): Promise<number | undefined> => (await store.load('a'))?.lastUsedAt;
    const commit = async (version: number, lastUsedAt: number, eventsFrom: number): Promise<void> => {
      const t = await store.begin('a');
      await t.commit({ version, lastUsedAt, lastUsedMinAdvanceMs: 5000, head: { version } as unknown as SessionHead, eventsFrom, events: [] });
    };
    await commit(2, 3000, 2);
    expect(await usedAt()).toBe(1000);
    await commit(3, 6000, 2);
    expect(await usedAt()).toBe(6000);
    expect((await store.load('a'))?.events).toEqual([{ n: 1 }, { n: 2 }]);
    // eventsFrom 0 with no events: the log was replaced by an empty one.
    await commit(4, 6000, 0);
    expect((await store.load('a'))?.events).toEqual([]);
    await store.close();
  });

  it('touch() within the step writes nothing and answers the known version; past it, or after another connection committed, it goes to the row', async () => {
    const store = await openStore();
    await store.insert({ ...row('a'), lastUsedAt: 1000 });
    expect(await store.touch('a', 1500, 1000)).toBe(1);
    expect((await store.load('a'))?.lastUsedAt).toBe(1000);
    expect(await store.touch('a', 2500, 1000)).toBe(1);
    expect((await store.load('a'))?.lastUsedAt).toBe(2500);
    await new Promise((r) => setImmediate(r));
    const other = new Database(join(dirs.at(-1)!, 'sessions.sqlite'));
    other.prepare('UPDATE sessions SET version = 5 WHERE id = ?').run('a');
    other.close();
    await new Promise((r) => setImmediate(r));
    expect(await store.touch('a', 2600, 1000)).toBe(5);
    await store.delete('a');
    expect(await store.touch('a', 2700, 1000)).toBeUndefined();
    await store.close();
  });
});

