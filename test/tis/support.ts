/**
 * Shared helpers for the TIS tests: register addressing as QEMU's qtests write it
 * (`TIS_REG(locty, reg)`), device factories per profile, the fake and the real engines, and a
 * recording engine wrapper for differential replays.
 */
import type { TpmEngine, TpmFamily, Locality } from '../../src/tpm/engine.js';
import { TisDevice, type TisDeviceOptions, type TisProfile, TIS_LOCALITY_SHIFT } from '../../src/tis/index.js';
import type { BankName } from '../../src/hash/index.js';
import { createTpm12 } from '../../src/tpm12/index.js';
import { createTpm2 } from '../../src/tpm2/index.js';
import { FakeTpm12, FakeTpm2 } from './fake-engines.js';
import { DelegatingEngine } from '../../src/tpm/observed.js';

/** Offset of `reg` in locality `l` (qtest `TIS_REG`). */
export function REG(l: number, reg: number): number {
  return (l << TIS_LOCALITY_SHIFT) + reg;
}

export const PROFILE_FAMILY: Readonly<Record<TisProfile, TpmFamily>> = {
  'tis-1.2': '1.2',
  'tis-1.3': '1.2',
  'ptp-fifo': '2.0',
};

export function fakeEngine(family: TpmFamily): TpmEngine {
  return family === '1.2' ? new FakeTpm12() : new FakeTpm2();
}

export function fakeDevice(profile: TisProfile, opts: TisDeviceOptions = {}): TisDevice {
  return new TisDevice(fakeEngine(PROFILE_FAMILY[profile]), { ...opts, profile });
}

/** Byte-wise helpers matching qtest's readb/readl/writeb/writel. */
export function io(d: TisDevice) {
  return {
    readb: (a: number) => d.read(a, 1),
    readw: (a: number) => d.read(a, 2),
    readl: (a: number) => d.read(a, 4),
    writeb: (a: number, v: number) => d.write(a, 1, v),
    writel: (a: number, v: number) => d.write(a, 4, v),
  };
}

/** The real engines (src/tpm12, src/tpm2), as the service builds them. */
export function realEngine(family: TpmFamily, banks: BankName[] = ['sha1', 'sha256']): TpmEngine {
  return family === '1.2' ? createTpm12({ startup: true }) : createTpm2({ startup: true, banks });
}

/** Wraps an engine and records every command that reaches it, with its locality and response. */
export class RecordingEngine extends DelegatingEngine {
  readonly log: { cmd: Uint8Array; locality: Locality; rsp: Uint8Array }[] = [];
  override execute(cmd: Uint8Array, locality: Locality): Uint8Array {
    const rsp = this.inner.execute(cmd, locality);
    this.log.push({ cmd: cmd.slice(), locality, rsp: rsp.slice() });
    return rsp;
  }
}

export const ALL_LOCALITIES: readonly Locality[] = [0, 1, 2, 3, 4];
