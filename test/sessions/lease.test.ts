/**
 * Session.lease (the turn kept across transactions, for socket sequences), close hooks (socket
 * listeners close with the session) and extendsOutsideLog in checkpoints and snapshots.
 */
import { describe, expect, it } from 'vitest';
import { Session, type SessionOptions } from '../../src/sessions/session.js';
import { SessionManager } from '../../src/sessions/manager.js';
import { MemorySessionStore } from '../../src/sessions/store.js';

const opts: SessionOptions = { family: '1.2', startup: true, logSize: 4096, compat: 'xen', banks: ['sha1'], tisProfile: 'tis-1.2' };

describe('Session.lease', () => {
  it('holds the turn across transactions until released; queued work runs after, in order', async () => {
    const s = new Session('a', opts, 0);
    const order: string[] = [];
    const lease = await s.lease();
    const queued = s.read(() => order.push('queued'));
    await lease.transact(() => order.push('one'));
    await lease.transact(() => order.push('two'));
    expect(order).toEqual(['one', 'two']);
    lease.release();
    lease.release(); // idempotent
    await queued;
    expect(order).toEqual(['one', 'two', 'queued']);
  });

  it('a failing transaction inside the lease rolls back only itself', async () => {
    const s = new Session('a', opts, 0);
    const lease = await s.lease();
    await lease.transact(() => {
      s.extendsOutsideLog = 1;
    });
    await expect(
      lease.transact(() => {
        s.extendsOutsideLog = 5;
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(s.extendsOutsideLog).toBe(1);
    lease.release();
  });
});

describe('close hooks', () => {
  it('run once when the session is deleted or expires, and at once when registered after', async () => {
    let now = 0;
    const m = new SessionManager(new MemorySessionStore(), { ttlMs: 1000, maxSessions: 10, now: () => now });
    const a = await m.create(opts);
    const b = await m.create(opts);
    const calls: string[] = [];
    a.onClose(() => calls.push('a'));
    const off = b.onClose(() => calls.push('b-unregistered'));
    b.onClose(() => calls.push('b'));
    off();
    await m.delete(a.id);
    now = 5000;
    expect(await m.sweep()).toBe(1);
    expect(calls).toEqual(['a', 'b']);
    a.onClose(() => calls.push('late'));
    expect(calls).toEqual(['a', 'b', 'late']);
  });
});

describe('extendsOutsideLog', () => {
  it('survives snapshot → restore; a snapshot without it restores as 0', () => {
    const s = new Session('a', opts, 0);
    s.extendsOutsideLog = 3;
    const snap = JSON.parse(JSON.stringify(s.snapshot())) as ReturnType<Session['snapshot']>;
    expect(Session.restore(snap).extendsOutsideLog).toBe(3);
    const old = { ...snap } as Partial<typeof snap>;
    delete old.extendsOutsideLog;
    expect(Session.restore(old as typeof snap).extendsOutsideLog).toBe(0);
  });
});
