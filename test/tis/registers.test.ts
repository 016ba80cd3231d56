/**
 * Register table: every register × access width × byte offset × profile × locality, inactive and
 * active, against values composed from named bits (QEMU `hw/tpm/tpm_tis_common.c` `tpm_tis_mmio_read`;
 * EDK2 `TpmPtp.h`).
 */
import { describe, expect, it } from 'vitest';
import {
  PROFILE_TRAITS,
  TIS_ACCESS,
  TIS_ALL_ONES,
  TIS_CAP,
  TIS_DEFAULT_DID_VID,
  TIS_DEFAULT_IRQ,
  TIS_DEFAULT_RID,
  TIS_IFACE_ID,
  TIS_INT,
  TIS_PROFILES,
  TIS_REG,
  TIS_STS,
  TisDevice,
  type AccessSize,
  type TisProfile,
} from '../../src/tis/index.js';
import { FakeTpm12, FakeTpm2 } from './fake-engines.js';
import { fakeDevice, PROFILE_FAMILY, REG } from './support.js';

const BUFFER = 4096;
const FAMILY_BITS: Record<TisProfile, number> = {
  'tis-1.2': TIS_STS.TPM_FAMILY_1_2,
  'tis-1.3': TIS_STS.TPM_FAMILY_1_2,
  'ptp-fifo': TIS_STS.TPM_FAMILY_2_0,
};

interface Row {
  name: string;
  reg: number;
  /** Expected dword for a fresh device; `active` = this locality was just granted (Idle). */
  dword(profile: TisProfile, active: boolean): number;
}

const ROWS: Row[] = [
  {
    name: 'ACCESS',
    reg: TIS_REG.ACCESS,
    dword: (_p, a) => TIS_ACCESS.TPM_REG_VALID_STS | TIS_ACCESS.TPM_ESTABLISHMENT | (a ? TIS_ACCESS.ACTIVE_LOCALITY : 0),
  },
  { name: 'reserved 0x04', reg: 0x004, dword: () => TIS_ALL_ONES },
  { name: 'INT_ENABLE', reg: TIS_REG.INT_ENABLE, dword: () => TIS_INT.POLARITY_LOW_LEVEL },
  { name: 'INT_VECTOR', reg: TIS_REG.INT_VECTOR, dword: () => TIS_DEFAULT_IRQ },
  { name: 'INT_STATUS', reg: TIS_REG.INT_STATUS, dword: () => 0 },
  { name: 'INTF_CAPABILITY', reg: TIS_REG.INTF_CAPABILITY, dword: (p) => PROFILE_TRAITS[p].intfCapability },
  {
    name: 'STS',
    reg: TIS_REG.STS,
    dword: (p, a) => (a ? ((BUFFER << TIS_STS.BURST_COUNT_SHIFT) | FAMILY_BITS[p]) >>> 0 : TIS_ALL_ONES),
  },
  { name: 'reserved 0x1C', reg: 0x01c, dword: () => TIS_ALL_ONES },
  { name: 'DATA_FIFO (Idle: no data)', reg: TIS_REG.DATA_FIFO, dword: () => TIS_ALL_ONES },
  { name: 'INTERFACE_ID', reg: TIS_REG.INTERFACE_ID, dword: (p) => PROFILE_TRAITS[p].interfaceId },
  { name: 'XDATA_FIFO first', reg: TIS_REG.XDATA_FIFO, dword: () => TIS_ALL_ONES },
  { name: 'XDATA_FIFO last', reg: TIS_REG.XDATA_FIFO_END, dword: () => TIS_ALL_ONES },
  { name: 'DID_VID', reg: TIS_REG.DID_VID, dword: () => TIS_DEFAULT_DID_VID },
  { name: 'RID', reg: TIS_REG.RID, dword: () => TIS_DEFAULT_RID },
  { name: 'QEMU debug 0xF90 (undecoded)', reg: 0xf90, dword: () => TIS_ALL_ONES },
];

const MASK: Record<AccessSize, number> = { 1: 0xff, 2: 0xffff, 4: 0xffffffff };

/** Sub-dword value, with QEMU's 1-byte burstCount clamp for STS (`tpm_tis_mmio_read`). */
function expected(row: Row, profile: TisProfile, active: boolean, shift: number, size: AccessSize): number {
  let dw = row.dword(profile, active);
  if (row.reg === TIS_REG.STS && active && size === 1) {
    dw = ((0xff << TIS_STS.BURST_COUNT_SHIFT) | FAMILY_BITS[profile]) >>> 0;
  }
  return ((dw >>> (8 * shift)) & MASK[size]) >>> 0;
}

describe('TIS/PTP register map (QEMU tpm_tis_mmio_read): per profile, width, byte offset and locality', () => {
  for (const profile of TIS_PROFILES) {
    for (const row of ROWS) {
      for (const size of [1, 2, 4] as const) {
        for (let shift = 0; shift + size <= 4; shift++) {
          it(`${profile} ${row.name} +${shift} size ${size}`, () => {
            for (const l of [0, 1, 2, 3, 4]) {
              const inactive = fakeDevice(profile);
              expect(inactive.read(REG(l, row.reg + shift), size), `locality ${l} inactive`).toBe(expected(row, profile, false, shift, size));
              if (l === 4) continue; // locality 4 cannot be requested through MMIO (QEMU drops its writes)
              const active = fakeDevice(profile);
              active.write(REG(l, TIS_REG.ACCESS), 1, TIS_ACCESS.REQUEST_USE);
              expect(active.read(REG(l, row.reg + shift), size), `locality ${l} active`).toBe(expected(row, profile, true, shift, size));
            }
          });
        }
      }
    }
  }
});

describe('INTF_CAPABILITY / INTERFACE_ID words composed from named bits (QEMU, EDK2 TpmPtp.h)', () => {
  it('QEMU values', () => {
    expect(PROFILE_TRAITS['ptp-fifo'].intfCapability).toBe(0x30000697);
    expect(PROFILE_TRAITS['tis-1.3'].intfCapability).toBe(0x20000697);
    expect(PROFILE_TRAITS['tis-1.2'].intfCapability & TIS_CAP.INTERFACE_VERSION_MASK).toBe(TIS_CAP.INTERFACE_VERSION_TIS_12);
    expect(PROFILE_TRAITS['tis-1.2'].intfCapability & TIS_CAP.DATA_TRANSFER_MASK).toBe(TIS_CAP.DATA_TRANSFER_LEGACY);
    expect(PROFILE_TRAITS['ptp-fifo'].interfaceId).toBe(0x00002100);
    expect(PROFILE_TRAITS['tis-1.3'].interfaceId).toBe(0xffffffff);
    // A FIFO TPM must never claim CRB in INTERFACE_ID bits 3:0 (the 2026 TrenchBoot Xen driver would use CRB).
    for (const p of TIS_PROFILES) expect(PROFILE_TRAITS[p].interfaceId & TIS_IFACE_ID.TYPE_MASK).not.toBe(TIS_IFACE_ID.TYPE_CRB);
  });
});

describe('read-only and hard-wired registers ignore writes at every width (QEMU tpm_tis_mmio_write)', () => {
  const readOnly = [TIS_REG.INT_VECTOR, TIS_REG.INTF_CAPABILITY, TIS_REG.DID_VID, TIS_REG.RID, 0x004, 0xf90];
  for (const profile of TIS_PROFILES) {
    it(profile, () => {
      const d = fakeDevice(profile);
      d.write(REG(0, TIS_REG.ACCESS), 1, TIS_ACCESS.REQUEST_USE);
      for (const reg of readOnly) {
        const before = d.read(REG(0, reg), 4);
        for (const size of [1, 2, 4] as const) for (let s = 0; s + size <= 4; s++) d.write(REG(0, reg + s), size, 0);
        expect(d.read(REG(0, reg), 4)).toBe(before);
      }
    });
  }
});

describe('DID_VID / RID: QEMU defaults, configurable', () => {
  it('custom values, both families', () => {
    const d = new TisDevice(new FakeTpm2(), { didVid: 0x001a15d1, rid: 0x36 });
    expect(d.read(REG(2, TIS_REG.DID_VID), 4)).toBe(0x001a15d1);
    expect(d.read(REG(2, TIS_REG.DID_VID + 2), 2)).toBe(0x001a);
    expect(d.read(REG(2, TIS_REG.RID), 1)).toBe(0x36);
    const d12 = new TisDevice(new FakeTpm12(), { didVid: 0x000b15d1 });
    expect(d12.read(REG(0, TIS_REG.DID_VID), 2)).toBe(0x15d1);
  });
  it('bad construction options throw (programmer error, not MMIO)', () => {
    expect(() => new TisDevice(new FakeTpm2(), { profile: 'tis-1.2' })).toThrow(RangeError);
    expect(() => new TisDevice(new FakeTpm12(), { profile: 'ptp-fifo' })).toThrow(RangeError);
    expect(() => new TisDevice(new FakeTpm12(), { burstMax: 0 })).toThrow(RangeError);
    expect(() => new TisDevice(new FakeTpm12(), { rid: 0x100 })).toThrow(RangeError);
  });
  it('default profile by family', () => {
    expect(new TisDevice(new FakeTpm12()).profile).toBe('tis-1.2');
    expect(new TisDevice(new FakeTpm2()).profile).toBe('ptp-fifo');
    for (const p of TIS_PROFILES) expect(fakeDevice(p).family).toBe(PROFILE_FAMILY[p]);
  });
});

describe('undecoded accesses are hardware semantics, not exceptions (QEMU tpm_tis_memory_ops)', () => {
  it('out of window, crossing a dword, bad size', () => {
    const d = fakeDevice('ptp-fifo');
    expect(d.read(0x5000, 4)).toBe(0xffffffff);
    expect(d.read(-1, 1)).toBe(0xff);
    expect(d.read(REG(0, TIS_REG.STS) + 3, 2)).toBe(0xffff); // crosses into 0x1C
    expect(d.read(REG(0, TIS_REG.ACCESS), 3 as AccessSize)).toBe(0xffffffff);
    expect(() => d.write(0x5000, 4, 0x02)).not.toThrow();
    expect(() => d.write(REG(0, TIS_REG.ACCESS), 1, Number.NaN)).not.toThrow();
    expect(d.state().activeLocality).toBeNull();
  });
  it('INTERFACE_ID intfSelLock is sticky in every locality (ptp) and absent in tis-1.2', () => {
    const d = fakeDevice('ptp-fifo');
    d.write(REG(1, TIS_REG.INTERFACE_ID), 4, TIS_IFACE_ID.INT_SEL_LOCK);
    for (const l of [0, 1, 2, 3, 4]) expect(d.read(REG(l, TIS_REG.INTERFACE_ID), 4)).toBe(0x00002100 | TIS_IFACE_ID.INT_SEL_LOCK);
    const t = fakeDevice('tis-1.2');
    t.write(REG(0, TIS_REG.INTERFACE_ID), 4, TIS_IFACE_ID.INT_SEL_LOCK);
    expect(t.state().intfSelLock).toBe(false);
  });
});
