import { describe, expect, it } from 'vitest';
import { Session, TransactionTimeout, type SessionOptions } from '../../src/sessions/session.js';
import { tpm12Commands } from '../../src/drivers/index.js';
import type { TxtContainerLog } from '../../src/eventlog/txt-container.js';

const OPTS: SessionOptions = { family: '1.2', startup: true, logSize: 32768, compat: 'xen', banks: ['sha1'], tisProfile: 'tis-1.2' };

function extend17(s: Session): void {
  s.engine.execute(tpm12Commands.extend12(17, new Uint8Array(20).fill(7)), 2);
}

describe('Session.transact: one turn, all or nothing', () => {
  it('keeps what fn changed when it returns', async () => {
    const s = new Session('a', OPTS, 0);
    const before = s.engine.pcrs().sha1?.[17];
    await s.transact(() => extend17(s));
    expect(s.engine.pcrs().sha1?.[17]).not.toEqual(before);
  });

  it('puts the TPM, the TIS and the log back when fn throws', async () => {
    const s = new Session('a', OPTS, 0);
    const before = JSON.stringify(s.checkpoint());
    await expect(
      s.transact(() => {
        extend17(s);
        (s.log as TxtContainerLog).append({ pcr: 17, type: 0x502, digest: new Uint8Array(20), data: new Uint8Array(3) });
        s.measurements++;
        throw new Error('refused');
      }),
    ).rejects.toThrow('refused');
    expect(JSON.stringify(s.checkpoint())).toBe(before);
  });

  it('fires the signal after timeoutMs with a TransactionTimeout reason, and rolls back', async () => {
    const s = new Session('a', OPTS, 0);
    const before = JSON.stringify(s.checkpoint());
    const seen = await s
      .transact(
        (signal) =>
          new Promise((_, reject) => {
            extend17(s);
            signal.addEventListener('abort', () => reject(signal.reason));
          }),
        { timeoutMs: 20 },
      )
      .catch((e: unknown) => e);
    expect(seen).toBeInstanceOf(TransactionTimeout);
    expect(JSON.stringify(s.checkpoint())).toBe(before);
  });

  it('runs transactions and reads one at a time in arrival order', async () => {
    const s = new Session('a', OPTS, 0);
    const order: string[] = [];
    await Promise.all([
      s.transact(async () => {
        await new Promise((r) => setTimeout(r, 20));
        order.push('t1');
      }),
      s.read(() => order.push('r')),
      s.transact(() => order.push('t2')),
    ]);
    expect(order).toEqual(['t1', 'r', 't2']);
  });
});
