/**
 * Command state machine, STS and FIFO (QEMU `tpm_tis_mmio_write`, `tpm_tis_data_read`;
 * docs/tpm-quirks.md#fifo-over-read, #seed-fifo-driver, #sts-writes-decoded-by-exact-value),
 * including QEMU's qtest `tpm_tis_test_check_transmit` (tests/qtest/tpm-tis-util.c).
 */
import { describe, expect, it } from 'vitest';
import { BeWriter, u32be } from '../../src/bytes/index.js';
import { TIS_ACCESS, TIS_PROFILES, TIS_REG, TIS_STS, TIS_STS_READ_ZERO, TisDevice, type TisProfile } from '../../src/tis/index.js';
import { FakeTpm12, FakeTpm2 } from './fake-engines.js';
import { fakeDevice, fakeEngine, io, PROFILE_FAMILY, REG } from './support.js';

const { VALID, EXPECT, DATA_AVAIL, COMMAND_READY, TPM_GO, RESPONSE_RETRY } = TIS_STS;
const TPM2_STARTUP = Uint8Array.of(0x80, 0x01, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x01, 0x44, 0x00, 0x00);
const TPM12_STARTUP = Uint8Array.of(0x00, 0xc1, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x99, 0x00, 0x01);
const startupFor = (p: TisProfile) => (PROFILE_FAMILY[p] === '2.0' ? TPM2_STARTUP : TPM12_STARTUP);
/** TPM_PcrRead(17) (TPM Main 1.2 Part 3 §16.2): 14 → 30 bytes. */
const PCRREAD17 = Uint8Array.of(0x00, 0xc1, 0x00, 0x00, 0x00, 0x0e, 0x00, 0x00, 0x00, 0x15, 0x00, 0x00, 0x00, 0x11);

function grant(d: TisDevice, l: number): void {
  d.write(REG(l, TIS_REG.ACCESS), 1, TIS_ACCESS.REQUEST_USE);
}
function sts8(d: TisDevice, l = 0): number {
  return d.read(REG(l, TIS_REG.STS), 1);
}
function ready(d: TisDevice, l = 0): void {
  d.write(REG(l, TIS_REG.STS), 1, COMMAND_READY);
}
function send(d: TisDevice, cmd: Uint8Array, l = 0): void {
  d.writeBytes(REG(l, TIS_REG.DATA_FIFO), cmd);
}
/** Ready → command in → tpmGo → one poll shows Execution → Completion. */
function runToCompletion(d: TisDevice, cmd: Uint8Array, l = 0): void {
  ready(d, l);
  send(d, cmd, l);
  d.write(REG(l, TIS_REG.STS), 1, TPM_GO);
  expect(sts8(d, l)).toBe(VALID);
  expect(sts8(d, l)).toBe(VALID | DATA_AVAIL);
}

describe('qtest tpm_tis_test_check_transmit, per profile', () => {
  // Mirrors the qtest step by step. Differences: the qtest only runs TPM 2.0 (Startup); for TPM 1.2
  // profiles we send TPM_Startup and compare with a twin engine. The qtest polls for up to 50 s;
  // here exactly one STS read shows Execution.
  for (const profile of TIS_PROFILES) {
    it(profile, () => {
      const d = fakeDevice(profile);
      const twin = fakeEngine(PROFILE_FAMILY[profile]);
      const cmd = startupFor(profile);
      const { readb, readl, writeb, writel } = io(d);
      writeb(REG(0, TIS_REG.ACCESS), TIS_ACCESS.REQUEST_USE);
      expect(readb(REG(0, TIS_REG.ACCESS))).toBe(TIS_ACCESS.TPM_REG_VALID_STS | TIS_ACCESS.ACTIVE_LOCALITY | TIS_ACCESS.TPM_ESTABLISHMENT);
      let sts = readl(REG(0, TIS_REG.STS));
      expect(sts & 0xff).toBe(0);
      expect(sts & TIS_STS.TPM_FAMILY_MASK).toBe(PROFILE_FAMILY[profile] === '2.0' ? TIS_STS.TPM_FAMILY_2_0 : TIS_STS.TPM_FAMILY_1_2);
      let bcount = (sts >>> 8) & 0xffff;
      expect(bcount).toBeGreaterThanOrEqual(128);
      writel(REG(0, TIS_REG.STS), COMMAND_READY);
      expect(readl(REG(0, TIS_REG.STS)) & 0xff).toBe(COMMAND_READY);
      for (let i = 0; i < cmd.length; i++) {
        writeb(REG(0, TIS_REG.DATA_FIFO), cmd[i] ?? 0);
        sts = readl(REG(0, TIS_REG.STS));
        expect(sts & 0xff).toBe(i < cmd.length - 1 ? EXPECT | VALID : VALID);
        expect((sts >>> 8) & 0xffff).toBe(--bcount);
      }
      writeb(REG(0, TIS_REG.STS), TPM_GO);
      let polls = 0;
      do sts = readl(REG(0, TIS_REG.STS));
      while ((sts & DATA_AVAIL) === 0 && ++polls < 100);
      sts = readl(REG(0, TIS_REG.STS));
      expect(sts & 0xff).toBe(VALID | DATA_AVAIL);
      bcount = (sts >>> 8) & 0xffff;
      const want = twin.execute(cmd, 0);
      expect(bcount).toBe(want.length);
      const got = new Uint8Array(want.length);
      for (let i = 0; i < got.length; i++) {
        got[i] = readb(REG(0, TIS_REG.DATA_FIFO));
        sts = readl(REG(0, TIS_REG.STS));
        if (sts & DATA_AVAIL) expect((sts >>> 8) & 0xffff).toBe(--bcount);
      }
      expect(got).toEqual(want);
      writeb(REG(0, TIS_REG.ACCESS), TIS_ACCESS.ACTIVE_LOCALITY);
      expect(readb(REG(0, TIS_REG.ACCESS))).toBe(TIS_ACCESS.TPM_REG_VALID_STS | TIS_ACCESS.TPM_ESTABLISHMENT);
    });
  }
});

describe('TIS command states as a polling driver sees them (QEMU tpm_tis_mmio_write/read)', () => {
  it('Execution (0x80) for `executionReads` reads after tpmGo, then Completion (0x90)', () => {
    const d = new TisDevice(new FakeTpm12(), { executionReads: 3 });
    grant(d, 0);
    ready(d);
    send(d, PCRREAD17);
    d.write(REG(0, TIS_REG.STS), 1, TPM_GO);
    expect(d.state().state).toBe('execution');
    expect(d.read(REG(0, TIS_REG.DATA_FIFO), 1)).toBe(0xff); // FIFO read in Execution: no data (counts as a read)
    expect(sts8(d)).toBe(VALID);
    expect(sts8(d)).toBe(VALID);
    expect(sts8(d)).toBe(VALID | DATA_AVAIL);
    expect(d.state().state).toBe('completion');
  });

  it('after the last response byte: STS = stsValid, FIFO reads 0xFF, nothing breaks (FIFO over-read)', () => {
    const d = fakeDevice('tis-1.2');
    grant(d, 0);
    runToCompletion(d, PCRREAD17);
    const rsp = d.readBytes(REG(0, TIS_REG.DATA_FIFO), 30);
    expect(u32be(rsp, 2)).toBe(30);
    expect(sts8(d)).toBe(VALID);
    expect(d.readBytes(REG(0, TIS_REG.DATA_FIFO), 1008)).toEqual(new Uint8Array(1008).fill(0xff));
    expect(d.read(REG(0, TIS_REG.DATA_FIFO), 4)).toBe(0xffffffff);
    expect(sts8(d)).toBe(VALID);
    expect(d.state().state).toBe('completion');
    ready(d);
    expect(sts8(d)).toBe(COMMAND_READY);
  });

  it('4-byte and XDATA_FIFO reads return response bytes little-endian in order', () => {
    const d = fakeDevice('tis-1.3');
    grant(d, 0);
    runToCompletion(d, PCRREAD17);
    const a = d.read(REG(0, TIS_REG.DATA_FIFO), 4);
    const b = d.read(REG(0, TIS_REG.XDATA_FIFO + 0x10), 4);
    expect([a & 0xff, (a >>> 8) & 0xff, (a >>> 16) & 0xff, a >>> 24]).toEqual([0x00, 0xc4, 0x00, 0x00]);
    expect(b & 0xffff).toBe(0x1e00); // bytes 4,5 = 0x00 0x1E (size 30), then rc
  });

  it('responseRetry restarts the response in Completion and is ignored elsewhere', () => {
    const d = fakeDevice('ptp-fifo');
    grant(d, 0);
    d.write(REG(0, TIS_REG.STS), 1, RESPONSE_RETRY); // Idle: ignored
    expect(sts8(d)).toBe(0);
    runToCompletion(d, TPM2_STARTUP);
    const first = d.readBytes(REG(0, TIS_REG.DATA_FIFO), 10);
    expect(sts8(d)).toBe(VALID);
    d.write(REG(0, TIS_REG.STS), 1, RESPONSE_RETRY);
    expect(sts8(d)).toBe(VALID | DATA_AVAIL);
    expect(d.read(REG(0, TIS_REG.BURST_COUNT), 2)).toBe(10);
    expect(d.readBytes(REG(0, TIS_REG.DATA_FIFO), 10)).toEqual(first);
  });

  it('commandReady in every state (QEMU transitions)', () => {
    const d = fakeDevice('tis-1.2');
    const engine = d.engine as FakeTpm12;
    grant(d, 0);
    // Idle → Ready
    ready(d);
    expect([d.state().state, sts8(d)]).toEqual(['ready', COMMAND_READY]);
    // Ready → Ready
    ready(d);
    expect([d.state().state, sts8(d)]).toEqual(['ready', COMMAND_READY]);
    // Reception → Ready, buffer discarded
    send(d, PCRREAD17.subarray(0, 8));
    expect(d.state().state).toBe('reception');
    ready(d);
    expect([d.state().state, sts8(d), d.state().buffer.commandBytes]).toEqual(['ready', COMMAND_READY, 0]);
    // Execution → Ready: the response is thrown away (the synchronous engine has already run it)
    send(d, PCRREAD17);
    d.write(REG(0, TIS_REG.STS), 1, TPM_GO);
    const executed = engine.executed;
    ready(d);
    expect([d.state().state, sts8(d), engine.executed]).toEqual(['ready', COMMAND_READY, executed]);
    expect(d.read(REG(0, TIS_REG.DATA_FIFO), 1)).toBe(0xff);
    // Completion → Ready, dataAvail cleared
    runToCompletion(d, PCRREAD17);
    ready(d);
    expect([d.state().state, sts8(d)]).toEqual(['ready', COMMAND_READY]);
  });

  it('STS writes are decoded by exact value: two command bits do nothing (QEMU tpm_tis_mmio_write)', () => {
    for (const v of [COMMAND_READY | TPM_GO, COMMAND_READY | RESPONSE_RETRY, TPM_GO | RESPONSE_RETRY, 0x62, 0xff]) {
      const d = fakeDevice('ptp-fifo');
      grant(d, 0);
      d.write(REG(0, TIS_REG.STS), 1, v); // Idle: would be → Ready for 0x40 alone
      expect(d.state().state).toBe('idle');
      ready(d);
      send(d, TPM2_STARTUP);
      d.write(REG(0, TIS_REG.STS), 1, v); // whole command in: 0x20 alone would execute
      expect(d.state().state).toBe('reception');
    }
  });

  it('tpmGo is ignored while Expect = 1 and outside Reception; tpmGo/responseRetry read back 0', () => {
    const d = fakeDevice('tis-1.3');
    grant(d, 1);
    d.write(REG(1, TIS_REG.STS), 1, TPM_GO);
    expect(d.state().state).toBe('idle');
    ready(d, 1);
    d.write(REG(1, TIS_REG.STS), 1, TPM_GO);
    expect(d.state().state).toBe('ready');
    send(d, PCRREAD17.subarray(0, 13), 1);
    expect(sts8(d, 1)).toBe(VALID | EXPECT);
    d.write(REG(1, TIS_REG.STS), 1, TPM_GO);
    expect(d.state().state).toBe('reception');
    for (const s of [sts8(d, 1), d.read(REG(1, TIS_REG.STS), 4)]) expect(s & TIS_STS_READ_ZERO).toBe(0);
  });

  it('Expect stays 1 until the size field is complete, drops at paramSize; later bytes are dropped', () => {
    const d = fakeDevice('tis-1.2');
    grant(d, 0);
    ready(d);
    for (let i = 0; i < 5; i++) {
      d.write(REG(0, TIS_REG.DATA_FIFO), 1, 0x00);
      expect(sts8(d)).toBe(VALID | EXPECT);
    }
    const d2 = fakeDevice('tis-1.2');
    grant(d2, 0);
    ready(d2);
    send(d2, PCRREAD17);
    expect(sts8(d2)).toBe(VALID);
    send(d2, Uint8Array.of(1, 2, 3));
    expect(d2.state().buffer.commandBytes).toBe(14);
    // one 4-byte write that straddles paramSize stores only what was expected
    const d3 = fakeDevice('tis-1.2');
    grant(d3, 0);
    ready(d3);
    send(d3, PCRREAD17.subarray(0, 12));
    d3.write(REG(0, TIS_REG.DATA_FIFO), 4, 0xeeee1100);
    expect(d3.state().buffer.commandBytes).toBe(14);
  });

  it('FIFO writes are dropped in Idle, Execution and Completion', () => {
    const d = fakeDevice('tis-1.2');
    grant(d, 0);
    send(d, PCRREAD17);
    expect([d.state().state, d.state().buffer.commandBytes]).toEqual(['idle', 0]);
    ready(d);
    send(d, PCRREAD17);
    d.write(REG(0, TIS_REG.STS), 1, TPM_GO);
    send(d, PCRREAD17);
    expect(sts8(d)).toBe(VALID);
    expect(sts8(d)).toBe(VALID | DATA_AVAIL);
    send(d, PCRREAD17);
    expect(d.state().buffer.responseLength).toBe(30);
    expect(d.readBytes(REG(0, TIS_REG.DATA_FIFO), 2)).toEqual(Uint8Array.of(0x00, 0xc4));
  });

  it('a command larger than the buffer: Expect drops when the buffer is full', () => {
    const d = new TisDevice(new FakeTpm12({ bufferSize: 64 }));
    grant(d, 0);
    ready(d);
    const big = new BeWriter().u16(0x00c1).u32(100).u32(0xa1).bytes(new Uint8Array(90)).finish();
    send(d, big);
    expect(sts8(d)).toBe(VALID);
    expect(d.state().buffer.commandBytes).toBe(64);
  });
});

describe('reads of inactive localities return all-ones (QEMU tpm_tis_mmio_read)', () => {
  it('STS and FIFO read all-ones and consume nothing; others readable', () => {
    const d = fakeDevice('ptp-fifo');
    grant(d, 2);
    runToCompletion(d, TPM2_STARTUP, 2);
    for (const l of [0, 1, 3, 4]) {
      expect(d.read(REG(l, TIS_REG.STS), 4)).toBe(0xffffffff);
      expect(d.read(REG(l, TIS_REG.DATA_FIFO), 4)).toBe(0xffffffff);
      expect(d.read(REG(l, TIS_REG.XDATA_FIFO), 1)).toBe(0xff);
      expect(d.read(REG(l, TIS_REG.INTF_CAPABILITY), 4)).toBe(0x30000697);
      d.write(REG(l, TIS_REG.STS), 1, COMMAND_READY); // ignored: not the active locality
      d.write(REG(l, TIS_REG.DATA_FIFO), 1, 0x00);
    }
    expect(d.state().buffer.responseRead).toBe(0);
    expect(d.readBytes(REG(2, TIS_REG.DATA_FIFO), 10)).toEqual(new FakeTpm2().execute(TPM2_STARTUP, 2));
  });
});

describe('burstCount (QEMU tpm_tis_mmio_read STS case)', () => {
  it('≥ 128 after grant, −1 per byte written, remaining bytes in Completion, −1 per byte read', () => {
    const d = fakeDevice('ptp-fifo');
    grant(d, 0);
    const bc = () => d.read(REG(0, TIS_REG.BURST_COUNT), 2);
    expect(bc()).toBe(4096);
    ready(d);
    for (let i = 0; i < TPM2_STARTUP.length; i++) {
      d.write(REG(0, TIS_REG.DATA_FIFO), 1, TPM2_STARTUP[i] ?? 0);
      expect(bc()).toBe(4096 - i - 1);
    }
    d.write(REG(0, TIS_REG.STS), 1, TPM_GO);
    sts8(d);
    expect(bc()).toBe(10);
    for (let i = 9; i >= 0; i--) {
      d.read(REG(0, TIS_REG.DATA_FIFO), 1);
      if (i > 0) expect(bc()).toBe(i);
    }
  });

  it('1-byte read at 0x19 clamps to 0xFF; 2-byte read does not', () => {
    const d = fakeDevice('tis-1.2');
    grant(d, 0);
    expect(d.read(REG(0, TIS_REG.BURST_COUNT), 1)).toBe(0xff);
    expect(d.read(REG(0, TIS_REG.BURST_COUNT), 2)).toBe(0x1000);
    expect(d.read(REG(0, TIS_REG.BURST_COUNT + 1), 1)).toBe(0x00); // QEMU clamps before the shift
  });

  it('configurable maximum: an 8-bit burst counter (burstMax 0xFF)', () => {
    const d = new TisDevice(new FakeTpm2(), { burstMax: 0xff });
    grant(d, 0);
    expect(d.read(REG(0, TIS_REG.BURST_COUNT), 2)).toBe(0xff);
    const small = new TisDevice(new FakeTpm2(), { burstMax: 8 });
    grant(small, 0);
    expect(small.read(REG(0, TIS_REG.STS), 4) >>> 8).toBe(0x0400 << 8 | 8); // family 2.0 in byte 3, burst 8
  });
});

describe('XDATA_FIFO (TIS 1.3 / PTP only; QEMU TPM_TIS_REG_DATA_XFIFO)', () => {
  it('4-byte XDATA writes fill the command in tis-1.3/ptp; ignored in tis-1.2', () => {
    for (const profile of TIS_PROFILES) {
      const d = fakeDevice(profile);
      grant(d, 0);
      ready(d);
      d.write(REG(0, TIS_REG.XDATA_FIFO + 0x20), 4, 0x0000c100);
      expect(d.state().buffer.commandBytes, profile).toBe(profile === 'tis-1.2' ? 0 : 4);
    }
  });
});
