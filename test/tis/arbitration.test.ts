/**
 * Locality arbitration (QEMU `tpm_tis_mmio_write` ACCESS case, `tpm_tis_new_active_locality`)
 * including QEMU's qtests
 * `tpm_tis_test_check_access_reg`, `…_seize` and `…_release` (tests/qtest/tpm-tis-util.c),
 * re-expressed as register scripts against exact values built from named flags.
 */
import { describe, expect, it } from 'vitest';
import { TIS_ACCESS, TIS_INT, TIS_PROFILES, TIS_REG, TIS_STS } from '../../src/tis/index.js';
import { fakeDevice, io, REG } from './support.js';

const { TPM_REG_VALID_STS: VALID, TPM_ESTABLISHMENT: EST, ACTIVE_LOCALITY: ACTIVE, REQUEST_USE, PENDING_REQUEST: PENDING, SEIZE, BEEN_SEIZED } =
  TIS_ACCESS;
const NUM = 5;

describe('QEMU qtests (tpm-tis-util.c), every profile', () => {
  for (const profile of TIS_PROFILES) {
    // Mirrors qtest tpm_tis_test_check_localities: ACCESS of locality 0 reads VALID|EST while
    // CAPABILITY/INTERFACE_ID/DID_VID/RID are readable at every locality. Difference: the qtest
    // only runs the TPM 2.0 device; the per-profile values are in registers.test.ts.
    it(`${profile}: check_localities`, () => {
      const d = fakeDevice(profile);
      const { readb, readl } = io(d);
      for (let l = 0; l < NUM; l++) {
        expect(readb(REG(0, TIS_REG.ACCESS))).toBe(VALID | EST);
        for (const r of [TIS_REG.DID_VID, TIS_REG.RID]) {
          expect(d.read(REG(l, r), 4)).not.toBe(0);
          expect(d.read(REG(l, r), 4)).not.toBe(0xffffffff);
        }
        expect(readl(REG(l, TIS_REG.INTF_CAPABILITY))).toBe(d.read(REG(0, TIS_REG.INTF_CAPABILITY), 4));
      }
    });

    // Mirrors qtest tpm_tis_test_check_access_reg exactly (localities 0..3, "4 is hw only").
    it(`${profile}: check_access_reg`, () => {
      const { readb, writeb } = io(fakeDevice(profile));
      for (let l = 0; l < NUM - 1; l++) {
        expect(readb(REG(l, TIS_REG.ACCESS))).toBe(VALID | EST);
        writeb(REG(l, TIS_REG.ACCESS), REQUEST_USE);
        expect(readb(REG(l, TIS_REG.ACCESS))).toBe(VALID | ACTIVE | EST);
        writeb(REG(l, TIS_REG.ACCESS), ACTIVE);
        expect(readb(REG(l, TIS_REG.ACCESS))).toBe(VALID | EST);
      }
    });

    // Mirrors qtest tpm_tis_test_check_access_reg_seize step by step (same loops, same asserts).
    it(`${profile}: check_access_reg_seize`, () => {
      const { readb, writeb } = io(fakeDevice(profile));
      const acc = (l: number) => readb(REG(l, TIS_REG.ACCESS));
      for (let locty = 0; locty < NUM - 1; locty++) {
        let pending = 0;
        expect(acc(locty)).toBe(VALID | EST);
        writeb(REG(locty, TIS_REG.ACCESS), REQUEST_USE);
        expect(acc(locty)).toBe(VALID | ACTIVE | EST);
        // lower localities cannot seize access
        for (let l = 0; l < locty; l++) {
          expect(acc(l)).toBe(VALID | pending | EST);
          writeb(REG(l, TIS_REG.ACCESS), REQUEST_USE);
          expect(acc(l)).toBe(VALID | REQUEST_USE | pending | EST);
          expect(acc(locty)).toBe(VALID | ACTIVE | PENDING | EST);
          writeb(REG(l, TIS_REG.ACCESS), SEIZE);
          expect(acc(l)).toBe(VALID | REQUEST_USE | pending | EST);
          expect(acc(locty)).toBe(VALID | ACTIVE | PENDING | EST);
          pending = PENDING;
        }
        // higher localities can seize but not request use
        let l = locty + 1;
        for (; l < NUM - 1; l++) {
          writeb(REG(l, TIS_REG.ACCESS), REQUEST_USE);
          expect(acc(l)).toBe(VALID | REQUEST_USE | pending | EST);
          expect(acc(l - 1)).toBe(VALID | ACTIVE | PENDING | EST);
          writeb(REG(l, TIS_REG.ACCESS), SEIZE);
          expect(acc(l)).toBe(VALID | ACTIVE | pending | EST);
          expect(acc(l - 1)).toBe(VALID | BEEN_SEIZED | pending | EST);
          writeb(REG(l - 1, TIS_REG.ACCESS), BEEN_SEIZED);
          expect(acc(l - 1)).toBe(VALID | pending | EST);
        }
        if (locty <= 1) pending = 0;
        l--;
        writeb(REG(l, TIS_REG.ACCESS), ACTIVE);
        expect(acc(l)).toBe(VALID | pending | EST);
        for (l = locty - 1; l >= 0; l--) {
          expect(acc(l)).toBe(VALID | ACTIVE | pending | EST);
          writeb(REG(l, TIS_REG.ACCESS), ACTIVE);
          if (l === 1) pending = 0;
        }
        for (l = 0; l < NUM - 1; l++) expect(acc(l)).toBe(VALID | EST);
      }
    });

    // Mirrors qtest tpm_tis_test_check_access_reg_release step by step.
    it(`${profile}: check_access_reg_release`, () => {
      const { readb, writeb } = io(fakeDevice(profile));
      const acc = (l: number) => readb(REG(l, TIS_REG.ACCESS));
      for (let locty = NUM - 2; locty >= 0; locty--) {
        let pending = 0;
        expect(acc(locty)).toBe(VALID | EST);
        writeb(REG(locty, TIS_REG.ACCESS), REQUEST_USE);
        expect(acc(locty)).toBe(VALID | ACTIVE | EST);
        for (let l = 0; l < NUM - 1; l++) {
          if (l === locty) continue;
          writeb(REG(l, TIS_REG.ACCESS), REQUEST_USE);
          expect(acc(l)).toBe(VALID | REQUEST_USE | pending | EST);
          pending = PENDING;
        }
        writeb(REG(locty, TIS_REG.ACCESS), ACTIVE);
        for (let l = NUM - 2; l >= 0; l--) {
          if (l === locty) continue;
          expect(acc(l)).toBe(VALID | ACTIVE | pending | EST);
          writeb(REG(l, TIS_REG.ACCESS), ACTIVE);
          if (l === 1 || (locty <= 1 && l === 2)) pending = 0;
          expect(acc(l)).toBe(VALID | pending | EST);
        }
      }
    });
  }
});

describe('arbitration scenarios (QEMU ACCESS semantics)', () => {
  it('requestUse while another locality is active stays pending; relinquish hands over to the highest requester', () => {
    const d = fakeDevice('ptp-fifo');
    const { readb, writeb } = io(d);
    writeb(REG(1, TIS_REG.ACCESS), REQUEST_USE);
    writeb(REG(0, TIS_REG.ACCESS), REQUEST_USE);
    writeb(REG(3, TIS_REG.ACCESS), REQUEST_USE);
    expect(d.state().activeLocality).toBe(1);
    expect(readb(REG(1, TIS_REG.ACCESS))).toBe(VALID | ACTIVE | PENDING | EST);
    expect(readb(REG(0, TIS_REG.ACCESS))).toBe(VALID | REQUEST_USE | PENDING | EST);
    writeb(REG(1, TIS_REG.ACCESS), ACTIVE);
    expect(d.state().activeLocality).toBe(3);
    expect(readb(REG(1, TIS_REG.ACCESS))).toBe(VALID | PENDING | EST);
    writeb(REG(3, TIS_REG.ACCESS), ACTIVE);
    expect(d.state().activeLocality).toBe(0);
    expect(readb(REG(0, TIS_REG.ACCESS))).toBe(VALID | ACTIVE | EST);
  });

  it('relinquish from a non-active locality only withdraws its own request', () => {
    const d = fakeDevice('tis-1.2');
    const { readb, writeb } = io(d);
    writeb(REG(2, TIS_REG.ACCESS), REQUEST_USE);
    writeb(REG(0, TIS_REG.ACCESS), REQUEST_USE);
    writeb(REG(0, TIS_REG.ACCESS), ACTIVE);
    expect(readb(REG(0, TIS_REG.ACCESS))).toBe(VALID | EST);
    expect(readb(REG(2, TIS_REG.ACCESS))).toBe(VALID | ACTIVE | EST);
  });

  it('requestUse from the active locality does nothing; Seize is never shown; Seize drops requestUse/activeLocality of the same write', () => {
    const d = fakeDevice('ptp-fifo');
    const { readb, writeb } = io(d);
    writeb(REG(1, TIS_REG.ACCESS), REQUEST_USE);
    writeb(REG(1, TIS_REG.ACCESS), REQUEST_USE);
    expect(readb(REG(1, TIS_REG.ACCESS))).toBe(VALID | ACTIVE | EST);
    // 0x28 = Seize|activeLocality from locality 2: the activeLocality bit is dropped, the seize succeeds.
    writeb(REG(2, TIS_REG.ACCESS), SEIZE | ACTIVE);
    expect(d.state().activeLocality).toBe(2);
    expect(readb(REG(2, TIS_REG.ACCESS)) & SEIZE).toBe(0);
    expect(readb(REG(1, TIS_REG.ACCESS))).toBe(VALID | BEEN_SEIZED | EST);
  });

  it('seize keeps the old owner\'s pending requestUse and aborts its command; seize with nobody active just grants', () => {
    const d = fakeDevice('ptp-fifo');
    const { readb, writeb } = io(d);
    writeb(REG(0, TIS_REG.ACCESS), SEIZE);
    expect(d.state().activeLocality).toBe(0);
    expect(readb(REG(0, TIS_REG.ACCESS))).toBe(VALID | ACTIVE | EST);
    writeb(REG(0, TIS_REG.STS), TIS_STS.COMMAND_READY);
    d.writeBytes(REG(0, TIS_REG.DATA_FIFO), Uint8Array.of(0x80, 0x01, 0x00, 0x00));
    expect(d.state().state).toBe('reception');
    writeb(REG(3, TIS_REG.ACCESS), SEIZE);
    expect(d.state().activeLocality).toBe(3);
    expect(d.state().state).toBe('idle');
    expect(d.state().buffer.commandBytes).toBe(0);
    expect(readb(REG(0, TIS_REG.ACCESS))).toBe(VALID | BEEN_SEIZED | EST);
    // a lower or equal locality cannot seize back
    writeb(REG(2, TIS_REG.ACCESS), SEIZE);
    writeb(REG(3, TIS_REG.ACCESS), SEIZE);
    expect(d.state().activeLocality).toBe(3);
  });

  it('locality 4 is not writable by software (QEMU drops locality-4 writes)', () => {
    const d = fakeDevice('ptp-fifo');
    const { readb, writeb } = io(d);
    writeb(REG(4, TIS_REG.ACCESS), REQUEST_USE);
    writeb(REG(4, TIS_REG.ACCESS), SEIZE);
    d.write(REG(4, TIS_REG.ACCESS), 4, REQUEST_USE);
    expect(d.state().activeLocality).toBeNull();
    expect(readb(REG(4, TIS_REG.ACCESS))).toBe(VALID | EST);
    writeb(REG(3, TIS_REG.ACCESS), REQUEST_USE);
    writeb(REG(4, TIS_REG.ACCESS), SEIZE);
    expect(d.state().activeLocality).toBe(3);
  });

  it('localityChange interrupt on the new owner when enabled (QEMU tpm_tis_new_active_locality)', () => {
    const d = fakeDevice('ptp-fifo');
    const { readl, writeb } = io(d);
    writeb(REG(0, TIS_REG.ACCESS), REQUEST_USE);
    d.write(REG(0, TIS_REG.INT_ENABLE), 4, TIS_INT.GLOBAL_ENABLE | TIS_INT.LOCALITY_CHANGED | TIS_INT.POLARITY_LOW_LEVEL);
    writeb(REG(0, TIS_REG.ACCESS), ACTIVE);
    writeb(REG(0, TIS_REG.ACCESS), REQUEST_USE);
    expect(readl(REG(0, TIS_REG.INT_STATUS))).toBe(TIS_INT.LOCALITY_CHANGED);
    expect(d.state().interruptPending).toBe(true);
    // locality 1 never enabled it: nothing there
    writeb(REG(1, TIS_REG.ACCESS), SEIZE);
    expect(readl(REG(1, TIS_REG.INT_STATUS))).toBe(0);
  });
});

describe('a locality change aborts the shared buffer (difference from QEMU: new owner starts Idle)', () => {
  const PCRREAD17 = Uint8Array.of(0x00, 0xc1, 0x00, 0x00, 0x00, 0x0e, 0x00, 0x00, 0x00, 0x15, 0x00, 0x00, 0x00, 0x11);
  for (const stage of ['reception', 'execution', 'completion'] as const) {
    it(`relinquish in ${stage} hands over to the waiting locality, which starts in Idle with nothing to read`, () => {
      const d = fakeDevice('tis-1.2');
      const { readb, writeb } = io(d);
      writeb(REG(0, TIS_REG.ACCESS), REQUEST_USE);
      writeb(REG(0, TIS_REG.STS), TIS_STS.COMMAND_READY);
      d.writeBytes(REG(0, TIS_REG.DATA_FIFO), stage === 'reception' ? PCRREAD17.subarray(0, 9) : PCRREAD17);
      if (stage !== 'reception') writeb(REG(0, TIS_REG.STS), TIS_STS.TPM_GO);
      if (stage === 'completion') readb(REG(0, TIS_REG.STS));
      expect(d.state().state).toBe(stage);
      writeb(REG(2, TIS_REG.ACCESS), REQUEST_USE);
      writeb(REG(0, TIS_REG.ACCESS), ACTIVE);
      expect(d.state()).toMatchObject({ activeLocality: 2, state: 'idle', buffer: { commandBytes: 0, responseLength: 0 } });
      expect(readb(REG(2, TIS_REG.STS))).toBe(0);
      expect(readb(REG(2, TIS_REG.DATA_FIFO))).toBe(0xff);
      // and the old owner coming back also starts from Idle
      writeb(REG(2, TIS_REG.ACCESS), ACTIVE);
      writeb(REG(0, TIS_REG.ACCESS), REQUEST_USE);
      expect(readb(REG(0, TIS_REG.STS))).toBe(0);
    });
  }
});
