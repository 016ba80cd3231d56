/** No stack trace and no internal path in any error response, even for an internal error. */
import { describe, expect, it } from 'vitest';
import { MemorySessionStore, type StoredSession } from '../../src/sessions/store.js';
import { startServer } from '../support/server.js';

/** A store that fails with a message naming internals. */
class BrokenStore extends MemorySessionStore {
  override async load(_id: string): Promise<StoredSession | undefined> {
    throw new Error('SQLITE_CANTOPEN: unable to open /var/lib/tpm-measure/sessions.db');
  }
}

/** A store that hands back a session this build cannot read (an internal error). */
class CorruptStore extends MemorySessionStore {
  override async load(id: string): Promise<StoredSession | undefined> {
    return { id, owner: null, createdAt: 0, lastUsedAt: Date.now(), version: 1, head: { options: 'unreadable: stored by a future build' } as never, events: [] };
  }
}

describe('error responses', () => {
  it('a store failure is a 503 problem without the message, stack or paths', async () => {
    const srv = await startServer({}, { store: new BrokenStore() });
    try {
      const r = await srv.fetch('/v1/sessions/abc/pcrs');
      expect(r.status).toBe(503);
      expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      const text = await r.text();
      expect(JSON.parse(text).type).toBe('urn:tpm-measure:problem:store-unavailable');
      expect(text).not.toMatch(/\/var\/lib|SQLITE|\bat \S+ \(|node_modules|\.ts:\d+|\.js:\d+/);
    } finally {
      await srv.close();
    }
  });

  it('an internal error is a 500 problem without the message, stack or paths', async () => {
    const srv = await startServer({}, { store: new CorruptStore() });
    try {
      const r = await srv.fetch('/v1/sessions/abc/pcrs');
      expect(r.status).toBe(500);
      expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      const text = await r.text();
      expect(JSON.parse(text).type).toBe('urn:tpm-measure:problem:internal');
      expect(text).not.toMatch(/\/var\/lib|SQLITE|\bat \S+ \(|node_modules|\.ts:\d+|\.js:\d+/);
    } finally {
      await srv.close();
    }
  });

  it('client errors name the problem, not the code that found it', async () => {
    const srv = await startServer();
    try {
      for (const [path, init] of [
        ['/v1/sessions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"family":' }],
        ['/v1/sessions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"family":"3.0"}' }],
        ['/v1/event-logs/replay', { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: 'garbage' }],
        ['/v1/sessions/x/mmio', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' }],
      ] as Array<[string, RequestInit]>) {
        const r = await srv.fetch(path, init);
        expect(r.status, path).toBeGreaterThanOrEqual(400);
        expect(r.status, path).toBeLessThan(500);
        const text = await r.text();
        expect(text, path).not.toMatch(/\bat \S+ \(|node_modules|\/src\/|\.ts:\d+|\.js:\d+/);
      }
    } finally {
      await srv.close();
    }
  });
});
