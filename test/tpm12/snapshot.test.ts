import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/bytes/index.js';
import { TPM_ST, Tpm12Engine, createTpm12 } from '../../src/tpm12/index.js';
import { cmd, extend, fill, getTestResult, pcrRead, sha1Complete, sha1Start, sha1Update, startup } from './support/commands.js';

/** Two engines must answer the same to the same commands from here on. */
function sameFuture(a: Tpm12Engine, b: Tpm12Engine): void {
  const probes = [sha1Update(fill(64, 9)), sha1Complete(fill(3, 1)), getTestResult(), pcrRead(0), pcrRead(17), pcrRead(18)];
  for (const p of probes) expect(toHex(b.execute(p, 2))).toBe(toHex(a.execute(p, 2)));
  expect([b.hashData(fill(5, 5)), b.hashEnd()]).toEqual([a.hashData(fill(5, 5)), a.hashEnd()]);
  expect(toHex(b.execute(pcrRead(17), 0))).toBe(toHex(a.execute(pcrRead(17), 0)));
  expect(b.established).toBe(a.established);
}

describe('Tpm12Engine snapshot/restore: plain JSON state for durable session stores', () => {
  it('round-trips through JSON mid SHA-1 thread and mid dynamic launch', () => {
    const a = createTpm12();
    a.execute(extend(0, fill(20, 1)), 0);
    a.hashStart();
    a.hashData(fill(77, 3));
    a.execute(sha1Start(), 2);
    a.execute(sha1Update(fill(128, 4)), 2);
    const json = JSON.stringify(a.snapshot());
    const b = Tpm12Engine.restore(JSON.parse(json));
    expect(JSON.stringify(b.snapshot())).toBe(json);
    sameFuture(a, b);
  });

  it('keeps the NV part: a TPM_SaveState survives restore and TPM_Init', () => {
    const a = createTpm12();
    a.execute(extend(3, fill(20, 7)), 0);
    a.execute(cmd(0x00000098), 0); // TPM_SaveState
    const b = Tpm12Engine.restore(JSON.parse(JSON.stringify(a.snapshot())));
    b.init();
    expect(toHex(b.execute(startup(TPM_ST.STATE), 0))).toBe('00c40000000a00000000');
    expect(toHex(b.execute(pcrRead(3), 0))).toBe(toHex(a.execute(pcrRead(3), 0)));
  });

  it.each([
    ['null', null],
    ['wrong version', { version: 2, family: '1.2', permanent: {}, volatile: {} }],
    ['wrong family', { version: 1, family: '2.0', permanent: {}, volatile: {} }],
    ['missing PCRs', (() => { const s = JSON.parse(JSON.stringify(createTpm12().snapshot())); s.volatile.pcrs.pop(); return s; })()],
    ['short PCR', (() => { const s = JSON.parse(JSON.stringify(createTpm12().snapshot())); s.volatile.pcrs[0] = '00'; return s; })()],
    ['bad test state', (() => { const s = JSON.parse(JSON.stringify(createTpm12().snapshot())); s.volatile.testState = 7; return s; })()],
    ['bad flag', (() => { const s = JSON.parse(JSON.stringify(createTpm12().snapshot())); s.permanent.tpmEstablished = 'yes'; return s; })()],
  ])('restore rejects %s', (_name, snap) => {
    expect(() => Tpm12Engine.restore(snap)).toThrow(TypeError);
  });
});
