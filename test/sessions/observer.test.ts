/** The metrics observer sees the TPM's commands whatever rebuilt the TPM: rollback, store reload, catch-up. */
import { describe, expect, it } from 'vitest';
import { Session, type SessionOptions } from '../../src/sessions/session.js';
import { tpm12Commands } from '../../src/drivers/index.js';

const OPTS: SessionOptions = { family: '1.2', startup: true, logSize: 32768, compat: 'xen', banks: ['sha1'], tisProfile: 'tis-1.2' };

function observed(): { s: Session; seen: number[] } {
  const s = new Session('o', OPTS, 0);
  const seen: number[] = [];
  s.observer = { command: (_family, rc) => seen.push(rc) };
  return { s, seen };
}

const read17 = (): Uint8Array => Uint8Array.from([0x00, 0xc1, 0, 0, 0, 0x0e, 0, 0, 0, 0x15, 0, 0, 0, 0x11]);

describe('session observer', () => {
  it('after a rolled-back transaction', async () => {
    const { s, seen } = observed();
    await s.transact(() => {
      s.engine.execute(tpm12Commands.extend12(17, new Uint8Array(20)), 2);
      throw new Error('refused');
    }).catch(() => undefined);
    const before = seen.length;
    s.engine.execute(read17(), 0);
    expect(seen.length).toBe(before + 1);
  });

  it('after load() and applyChanges() from stored state', () => {
    const { s, seen } = observed();
    const head = s.head();
    s.load(head, s.logEvents(0), 1, 0);
    s.engine.execute(read17(), 0);
    expect(seen.length).toBe(1);
    expect(s.applyChanges(s.head(), [], 0, 2, 0)).toBe(true);
    s.engine.execute(read17(), 0);
    expect(seen.length).toBe(2);
  });
});
