/**
 * Interrupts (QEMU `TPM_TIS_INT_*`), selfTestDone / commandCancel / resetEstablishment (EDK2
 * `PTP_FIFO_STS_EX_*`; docs/tpm-quirks.md#reset-establishment), the dynamic launch at locality 4
 * (libtpms `tpm_tpm12_tis.c`; docs/tpm-quirks.md#locality-4), Xen's family detection
 * (docs/tpm-quirks.md#family-detection), state view and snapshot/restore.
 */
import { describe, expect, it } from 'vitest';
import { extendValue, sha1 } from '../../src/hash/index.js';
import {
  DYNAMIC_LAUNCH_IGNORED,
  TIS_ACCESS,
  TIS_CAP,
  TIS_INT,
  TIS_PROFILES,
  TIS_REG,
  TIS_STS,
  TisDevice,
  TisSnapshotError,
  type TisSnapshot,
} from '../../src/tis/index.js';
import { FakeTpm12, FakeTpm2 } from './fake-engines.js';
import { fakeDevice, PROFILE_FAMILY, REG } from './support.js';

const { VALID, DATA_AVAIL, COMMAND_READY, TPM_GO } = TIS_STS;
const PCRREAD17 = Uint8Array.of(0x00, 0xc1, 0x00, 0x00, 0x00, 0x0e, 0x00, 0x00, 0x00, 0x15, 0x00, 0x00, 0x00, 0x11);
const CONTINUE_SELFTEST = Uint8Array.of(0x00, 0xc1, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x00, 0x53);
const TPM2_SELFTEST = Uint8Array.of(0x80, 0x01, 0x00, 0x00, 0x00, 0x0b, 0x00, 0x00, 0x01, 0x43, 0x01);
const TPM2_STARTUP = Uint8Array.of(0x80, 0x01, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x01, 0x44, 0x00, 0x00);
const ALL_INTS = TIS_INT.GLOBAL_ENABLE | TIS_INT.COMMAND_READY | TIS_INT.LOCALITY_CHANGED | TIS_INT.STS_VALID | TIS_INT.DATA_AVAIL;

function grant(d: TisDevice, l: number): void {
  d.write(REG(l, TIS_REG.ACCESS), 1, TIS_ACCESS.REQUEST_USE);
}
function exchange(d: TisDevice, l: number, cmd: Uint8Array): Uint8Array {
  d.write(REG(l, TIS_REG.STS), 1, COMMAND_READY);
  d.writeBytes(REG(l, TIS_REG.DATA_FIFO), cmd);
  d.write(REG(l, TIS_REG.STS), 1, TPM_GO);
  while ((d.read(REG(l, TIS_REG.STS), 1) & DATA_AVAIL) === 0);
  const n = d.read(REG(l, TIS_REG.BURST_COUNT), 2);
  return d.readBytes(REG(l, TIS_REG.DATA_FIFO), n);
}
const ints = (d: TisDevice, l = 0) => d.read(REG(l, TIS_REG.INT_STATUS), 4);

describe('interrupt enable/status (QEMU TPM_TIS_INT_*)', () => {
  it('commandReady, stsValid, dataAvail set when they happen; W1C clears only written bits', () => {
    const d = fakeDevice('tis-1.3');
    grant(d, 0);
    d.write(REG(0, TIS_REG.INT_ENABLE), 4, ALL_INTS | TIS_INT.POLARITY_LOW_LEVEL);
    expect(d.read(REG(0, TIS_REG.INT_ENABLE), 4)).toBe((ALL_INTS | TIS_INT.POLARITY_LOW_LEVEL) >>> 0);
    d.write(REG(0, TIS_REG.STS), 1, COMMAND_READY);
    expect(ints(d)).toBe(TIS_INT.COMMAND_READY);
    d.write(REG(0, TIS_REG.INT_STATUS), 4, TIS_INT.COMMAND_READY);
    expect(ints(d)).toBe(0);
    d.writeBytes(REG(0, TIS_REG.DATA_FIFO), PCRREAD17);
    d.write(REG(0, TIS_REG.STS), 1, TPM_GO);
    d.read(REG(0, TIS_REG.STS), 1);
    expect(ints(d)).toBe(TIS_INT.DATA_AVAIL | TIS_INT.STS_VALID);
    d.write(REG(0, TIS_REG.INT_STATUS), 1, TIS_INT.DATA_AVAIL);
    expect(ints(d)).toBe(TIS_INT.STS_VALID);
    d.write(REG(0, TIS_REG.INT_STATUS), 1, TIS_INT.STS_VALID);
    d.readBytes(REG(0, TIS_REG.DATA_FIFO), 30); // last byte raises stsValid
    expect(ints(d)).toBe(TIS_INT.STS_VALID);
    expect(d.state().interruptPending).toBe(true);
  });

  it('nothing is latched without globalIntEnable; INT_ENABLE/INT_STATUS writes need the active locality', () => {
    const d = fakeDevice('ptp-fifo');
    grant(d, 1);
    d.write(REG(1, TIS_REG.INT_ENABLE), 4, TIS_INT.COMMAND_READY);
    d.write(REG(1, TIS_REG.STS), 1, COMMAND_READY);
    expect(ints(d, 1)).toBe(0);
    d.write(REG(0, TIS_REG.INT_ENABLE), 4, ALL_INTS);
    expect(d.read(REG(0, TIS_REG.INT_ENABLE), 4)).toBe(TIS_INT.POLARITY_LOW_LEVEL);
    // partial-width write touches only the written byte
    d.write(REG(1, TIS_REG.INT_ENABLE + 3), 1, TIS_INT.GLOBAL_ENABLE >>> 24);
    expect(d.read(REG(1, TIS_REG.INT_ENABLE), 4)).toBe((TIS_INT.GLOBAL_ENABLE | TIS_INT.COMMAND_READY) >>> 0);
    // unsupported enable bits are not stored
    d.write(REG(1, TIS_REG.INT_ENABLE), 1, 0x60);
    expect(d.read(REG(1, TIS_REG.INT_ENABLE), 1)).toBe(0);
  });
});

describe('STS selfTestDone, commandCancel, resetEstablishment (QEMU, EDK2 PTP_FIFO_STS_EX_*)', () => {
  it('selfTestDone is set by a successful self-test and kept in every locality', () => {
    for (const [d, cmd] of [
      [new TisDevice(new FakeTpm12()), CONTINUE_SELFTEST],
      [new TisDevice(new FakeTpm2()), TPM2_SELFTEST],
    ] as const) {
      grant(d, 0);
      expect(d.read(REG(0, TIS_REG.STS), 1) & TIS_STS.SELFTEST_DONE).toBe(0);
      exchange(d, 0, cmd);
      d.write(REG(0, TIS_REG.STS), 1, COMMAND_READY);
      expect(d.read(REG(0, TIS_REG.STS), 1)).toBe(COMMAND_READY | TIS_STS.SELFTEST_DONE);
      d.write(REG(0, TIS_REG.ACCESS), 1, TIS_ACCESS.ACTIVE_LOCALITY);
      grant(d, 3);
      expect(d.read(REG(3, TIS_REG.STS), 1)).toBe(TIS_STS.SELFTEST_DONE);
    }
  });

  it('commandCancel (PTP) during Execution: the synchronous engine already answered, the response is delivered', () => {
    const d = fakeDevice('ptp-fifo');
    grant(d, 0);
    d.write(REG(0, TIS_REG.STS), 1, COMMAND_READY);
    d.writeBytes(REG(0, TIS_REG.DATA_FIFO), TPM2_STARTUP);
    d.write(REG(0, TIS_REG.STS), 1, TPM_GO);
    d.write(REG(0, TIS_REG.STS_EX), 1, TIS_STS.COMMAND_CANCEL >>> 24);
    expect(d.read(REG(0, TIS_REG.STS), 1)).toBe(VALID);
    expect(d.read(REG(0, TIS_REG.STS), 1)).toBe(VALID | DATA_AVAIL);
    expect(d.readBytes(REG(0, TIS_REG.DATA_FIFO), 10)).toEqual(new FakeTpm2().execute(TPM2_STARTUP, 0));
    d.write(REG(0, TIS_REG.STS), 4, TIS_STS.COMMAND_CANCEL); // outside Execution: no effect
    expect(d.state().state).toBe('completion');
  });

  it('resetEstablishmentBit: PTP only, locality 3 only in practice (QEMU)', () => {
    for (const profile of TIS_PROFILES) {
      for (const l of [0, 1, 2, 3]) {
        const d = fakeDevice(profile);
        expect(d.dynamicLaunch(new Uint8Array(4))).toBe(0);
        expect(d.read(REG(l, TIS_REG.ACCESS), 1) & TIS_ACCESS.TPM_ESTABLISHMENT).toBe(0);
        grant(d, l);
        d.write(REG(l, TIS_REG.STS), 4, TIS_STS.RESET_ESTABLISHMENT);
        d.write(REG(4, TIS_REG.STS), 4, TIS_STS.RESET_ESTABLISHMENT); // locality 4: dropped
        const cleared = profile === 'ptp-fifo' && l === 3;
        expect(d.read(REG(0, TIS_REG.ACCESS), 1) & TIS_ACCESS.TPM_ESTABLISHMENT, `${profile} loc ${l}`).toBe(cleared ? 1 : 0);
        expect(d.state().tpmEstablished).toBe(!cleared);
      }
    }
  });
});

describe('dynamic launch at locality 4 (libtpms TPM12_IO_Hash_Start/_Data/_End)', () => {
  it('HASH_START/DATA/END: PCR17 = SHA1(0^20 ‖ SHA1(data)), tpmEstablishment reads 0, locality 4 released', () => {
    const engine = new FakeTpm12();
    const d = new TisDevice(engine);
    d.write(REG(0, TIS_REG.INT_ENABLE), 4, ALL_INTS); // ignored: not active
    const data = new Uint8Array(10_000).map((_, i) => (i * 7) & 0xff);
    expect(d.read(REG(0, TIS_REG.ACCESS), 1)).toBe(TIS_ACCESS.TPM_REG_VALID_STS | TIS_ACCESS.TPM_ESTABLISHMENT);
    expect(d.dynamicLaunch(data)).toBe(0);
    expect(engine.pcr[17]).toEqual(extendValue('sha1', new Uint8Array(20), sha1(data)));
    expect(engine.pcr[18]).toEqual(new Uint8Array(20));
    for (const l of [0, 1, 2, 3, 4]) expect(d.read(REG(l, TIS_REG.ACCESS), 1)).toBe(TIS_ACCESS.TPM_REG_VALID_STS);
    expect(d.state().activeLocality).toBeNull();
  });

  it('ignored while another locality holds the TPM; its command is untouched', () => {
    const engine = new FakeTpm12();
    const d = new TisDevice(engine);
    grant(d, 2);
    d.write(REG(2, TIS_REG.STS), 1, COMMAND_READY);
    d.writeBytes(REG(2, TIS_REG.DATA_FIFO), PCRREAD17.subarray(0, 7));
    expect(d.dynamicLaunch(new Uint8Array(1))).toBe(DYNAMIC_LAUNCH_IGNORED);
    expect(engine.established).toBe(false);
    expect(d.state()).toMatchObject({ activeLocality: 2, state: 'reception', buffer: { commandBytes: 7 } });
  });

  it('an engine error releases locality 4 and returns the rc', () => {
    const engine = new FakeTpm12();
    engine.hashStart = () => 0x26;
    const d = new TisDevice(engine);
    expect(d.dynamicLaunch(new Uint8Array(1))).toBe(0x26);
    expect(d.state().activeLocality).toBeNull();
  });
});

/** Xen's `is_tpm12` (Xen slaunch patch 11/21): INTF_CAPABILITY_0 version 000 or 010, or STS_0 family 00. */
function xenIsTpm12(d: TisDevice): boolean {
  const cap = d.read(REG(0, TIS_REG.INTF_CAPABILITY), 4);
  const ver = cap & TIS_CAP.INTERFACE_VERSION_MASK;
  const sts = d.read(REG(0, TIS_REG.STS), 4);
  return ver === TIS_CAP.INTERFACE_VERSION_TIS_12 || ver === TIS_CAP.INTERFACE_VERSION_TIS_13 || (sts & TIS_STS.TPM_FAMILY_MASK) === TIS_STS.TPM_FAMILY_1_2;
}

describe('Xen family detection (is_tpm12) sees the right family from every profile', () => {
  for (const profile of TIS_PROFILES) {
    it(profile, () => {
      const want = PROFILE_FAMILY[profile] === '1.2';
      const none = fakeDevice(profile);
      expect(xenIsTpm12(none), 'no locality active').toBe(want);
      const other = fakeDevice(profile);
      grant(other, 2);
      expect(xenIsTpm12(other), 'locality 2 active').toBe(want);
      const zero = fakeDevice(profile);
      grant(zero, 0);
      expect(xenIsTpm12(zero), 'locality 0 active').toBe(want);
    });
  }
});

describe('state view and snapshot/restore', () => {
  it('state() is JSON-able and side-effect free', () => {
    const d = fakeDevice('ptp-fifo');
    grant(d, 0);
    d.write(REG(0, TIS_REG.STS), 1, COMMAND_READY);
    d.writeBytes(REG(0, TIS_REG.DATA_FIFO), TPM2_STARTUP);
    d.write(REG(0, TIS_REG.STS), 1, TPM_GO);
    const v = d.state();
    expect(JSON.parse(JSON.stringify(v))).toEqual(v);
    expect(d.state().state).toBe('execution'); // computing the view did not advance time
    expect(v.localities[0]?.sts).toMatchObject({ stsValid: true, dataAvail: false, tpmFamily: '2.0' });
    expect(v.localities[1]?.sts).toBeNull();
  });

  it('restore returns to the exact register state, through JSON', () => {
    const d = fakeDevice('tis-1.3');
    grant(d, 1);
    d.write(REG(1, TIS_REG.STS), 1, COMMAND_READY);
    d.writeBytes(REG(1, TIS_REG.DATA_FIFO), PCRREAD17);
    d.write(REG(1, TIS_REG.STS), 1, TPM_GO);
    const snap = JSON.parse(JSON.stringify(d.snapshot())) as TisSnapshot;
    const rsp1 = [d.read(REG(1, TIS_REG.STS), 1), d.read(REG(1, TIS_REG.STS), 1), ...d.readBytes(REG(1, TIS_REG.DATA_FIFO), 30)];
    d.restore(snap);
    const rsp2 = [d.read(REG(1, TIS_REG.STS), 1), d.read(REG(1, TIS_REG.STS), 1), ...d.readBytes(REG(1, TIS_REG.DATA_FIFO), 30)];
    expect(rsp2).toEqual(rsp1);
    const other = fakeDevice('tis-1.3');
    other.restore(snap);
    expect(other.state().state).toBe('execution');
  });

  it('malformed snapshots are rejected with TisSnapshotError', () => {
    const d = fakeDevice('tis-1.2');
    const good = d.snapshot();
    for (const bad of [null, { ...good, version: 2 }, { ...good, profile: 'tis-1.3' }, { ...good, loc: [] }, { ...good, buffer: 'zz' }, { ...good, rwOffset: 99999 }]) {
      expect(() => d.restore(bad as TisSnapshot)).toThrow(TisSnapshotError);
    }
  });
});
