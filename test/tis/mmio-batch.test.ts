/**
 * The MMIO batch executor used by the HTTP layer: whole-batch validation, atomic application,
 * bounded polls.
 */
import { describe, expect, it } from 'vitest';
import { MMIO_BATCH_LIMITS, MmioValidationError, runMmioBatch, TIS_ACCESS, TIS_REG, TIS_STS, TisDevice } from '../../src/tis/index.js';
import { FakeTpm2 } from './fake-engines.js';
import { REG } from './support.js';

const TPM2_STARTUP = Uint8Array.of(0x80, 0x01, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x01, 0x44, 0x00, 0x00);

describe('runMmioBatch', () => {
  it('a whole exchange in one batch: write, writeBytes, poll, read, readBytes', () => {
    const d = new TisDevice(new FakeTpm2());
    const res = runMmioBatch(d, [
      { op: 'write', offset: REG(0, TIS_REG.ACCESS), size: 1, value: TIS_ACCESS.REQUEST_USE },
      { op: 'write', offset: REG(0, TIS_REG.STS), size: 1, value: TIS_STS.COMMAND_READY },
      { op: 'writeBytes', offset: REG(0, TIS_REG.DATA_FIFO), data: TPM2_STARTUP },
      { op: 'write', offset: REG(0, TIS_REG.STS), size: 1, value: TIS_STS.TPM_GO },
      { op: 'poll', offset: REG(0, TIS_REG.STS), size: 1, mask: 0x90, value: 0x90, maxReads: 10 },
      { op: 'read', offset: REG(0, TIS_REG.BURST_COUNT), size: 2 },
      { op: 'readBytes', offset: REG(0, TIS_REG.DATA_FIFO), count: 10 },
    ]);
    expect(res[4]).toEqual({ value: 0x90, reads: 2, matched: true });
    expect(res[5]).toEqual({ value: 10 });
    expect(res[6]).toEqual({ data: new FakeTpm2().execute(TPM2_STARTUP, 0) });
  });

  it('poll gives up after maxReads without throwing', () => {
    const d = new TisDevice(new FakeTpm2());
    const [r] = runMmioBatch(d, [{ op: 'poll', offset: REG(0, TIS_REG.ACCESS), size: 1, mask: 0x20, value: 0x20, maxReads: 5 }]);
    expect(r).toEqual({ value: 0x81, reads: 5, matched: false });
  });

  const BAD: [string, unknown][] = [
    ['unknown op', { op: 'peek', offset: 0, size: 1 }],
    ['size 3', { op: 'read', offset: 0, size: 3 }],
    ['offset past 0x4FFF', { op: 'read', offset: 0x5000, size: 1 }],
    ['negative offset', { op: 'write', offset: -4, size: 4, value: 0 }],
    ['crosses a dword', { op: 'read', offset: 0x19, size: 4 }],
    ['value too wide', { op: 'write', offset: 0, size: 1, value: 0x100 }],
    ['fractional value', { op: 'write', offset: 0, size: 4, value: 1.5 }],
    ['maxReads over cap', { op: 'poll', offset: 0x18, size: 1, mask: 1, value: 1, maxReads: MMIO_BATCH_LIMITS.MAX_POLL_READS + 1 }],
    ['maxReads 0', { op: 'poll', offset: 0x18, size: 1, mask: 1, value: 1, maxReads: 0 }],
    ['data not bytes', { op: 'writeBytes', offset: 0x24, data: [1, 2] }],
    ['count over cap', { op: 'readBytes', offset: 0x24, count: MMIO_BATCH_LIMITS.MAX_BYTES + 1 }],
    ['null op', null],
  ];
  for (const [name, op] of BAD) {
    it(`rejects ${name} and applies nothing`, () => {
      const d = new TisDevice(new FakeTpm2());
      const before = JSON.stringify(d.snapshot());
      let err: unknown;
      try {
        runMmioBatch(d, [{ op: 'write', offset: REG(0, TIS_REG.ACCESS), size: 1, value: TIS_ACCESS.REQUEST_USE }, op]);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(MmioValidationError);
      expect((err as MmioValidationError).index).toBe(1);
      expect((err as MmioValidationError).code).toBe('MMIO_INVALID_OP');
      expect(JSON.stringify(d.snapshot())).toBe(before);
    });
  }

  it('rejects too many ops and non-arrays', () => {
    const d = new TisDevice(new FakeTpm2());
    expect(() => runMmioBatch(d, new Array(MMIO_BATCH_LIMITS.MAX_OPS + 1).fill({ op: 'read', offset: 0, size: 1 }))).toThrow(MmioValidationError);
    expect(() => runMmioBatch(d, 'x' as unknown as unknown[])).toThrow(MmioValidationError);
  });

  it('restores the register state when the engine throws mid-batch', () => {
    const engine = new FakeTpm2();
    const d = new TisDevice(engine);
    d.write(REG(0, TIS_REG.ACCESS), 1, TIS_ACCESS.REQUEST_USE);
    const before = JSON.stringify(d.snapshot());
    engine.execute = () => {
      throw new Error('broken engine');
    };
    expect(() =>
      runMmioBatch(d, [
        { op: 'write', offset: REG(0, TIS_REG.STS), size: 1, value: TIS_STS.COMMAND_READY },
        { op: 'writeBytes', offset: REG(0, TIS_REG.DATA_FIFO), data: TPM2_STARTUP },
        { op: 'write', offset: REG(0, TIS_REG.STS), size: 1, value: TIS_STS.TPM_GO },
      ]),
    ).toThrow('broken engine');
    expect(JSON.stringify(d.snapshot())).toBe(before);
  });
});
