/**
 * Shared helpers for the TIS tests: register addressing as QEMU's qtests write it
 * (`TIS_REG(locty, reg)`), device factories per profile, and engine loading (the real engines
 * once `src/tpm12` / `src/tpm2` exist, else the fakes in fake-engines.ts).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { TpmEngine, TpmFamily, Locality } from '../../src/tpm/engine.js';
import { TisDevice, type TisDeviceOptions, type TisProfile, TIS_LOCALITY_SHIFT } from '../../src/tis/index.js';
import { FakeTpm12, FakeTpm2 } from './fake-engines.js';

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

type Factory = () => TpmEngine;
interface EngineModule12 {
  createTpm12(opts: { startup: boolean }): TpmEngine;
}
interface EngineModule2 {
  createTpm2(opts: { startup: boolean; banks: string[] }): TpmEngine;
}

function srcExists(rel: string): boolean {
  return existsSync(fileURLToPath(new URL(rel, import.meta.url)));
}

/**
 * The real engine for `family` if its module exists in the tree, else the fake. The module path is
 * built at run time so the typecheck does not depend on the other team's files.
 */
export async function loadEngineFactory(family: TpmFamily): Promise<{ real: boolean; create: Factory }> {
  const rel = family === '1.2' ? '../../src/tpm12/index.ts' : '../../src/tpm2/index.ts';
  if (srcExists(rel)) {
    const spec = rel.replace(/\.ts$/, '.js');
    if (family === '1.2') {
      const m = (await import(spec)) as EngineModule12;
      if (typeof m.createTpm12 === 'function') return { real: true, create: () => m.createTpm12({ startup: true }) };
    } else {
      const m = (await import(spec)) as EngineModule2;
      if (typeof m.createTpm2 === 'function') return { real: true, create: () => m.createTpm2({ startup: true, banks: ['sha1', 'sha256'] }) };
    }
  }
  return { real: false, create: () => fakeEngine(family) };
}

export const ALL_LOCALITIES: readonly Locality[] = [0, 1, 2, 3, 4];
