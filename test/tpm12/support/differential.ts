/**
 * One step of a TPM 1.2 stream, applied to our engine and to swtpm (the reference), with the
 * observable outcome of each rendered as a string so the two can be compared byte for byte.
 */
import type { Locality } from '../../../src/tpm/engine.js';
import type { Tpm12Engine } from '../../../src/tpm12/index.js';
import type { Swtpm } from '../../support/swtpm.js';
import { hex } from './commands.js';

export type Step =
  /** A raw command at a locality. `compare: 'headerAndSize'` for random output (GetRandom). */
  | { readonly kind: 'cmd'; readonly locality: Locality; readonly bytes: Uint8Array; readonly compare?: 'exact' | 'headerAndSize' }
  /** The whole dynamic launch as the CPU drives it (swtpm harness `drtm`). */
  | { readonly kind: 'drtm'; readonly data: Uint8Array }
  | { readonly kind: 'hashStart' }
  | { readonly kind: 'hashData'; readonly data: Uint8Array }
  | { readonly kind: 'hashEnd' }
  | { readonly kind: 'init' }
  | { readonly kind: 'resetEstablished'; readonly locality: Locality }
  | { readonly kind: 'getEstablished' };

export function describeStep(step: Step): string {
  switch (step.kind) {
    case 'cmd':
      return `cmd@loc${step.locality} ${hex(step.bytes.subarray(0, 96))}${step.bytes.length > 96 ? `… (${step.bytes.length} bytes)` : ''}`;
    case 'drtm':
    case 'hashData':
      return `${step.kind}(${step.data.length} bytes ${hex(step.data.subarray(0, 16))}…)`;
    case 'resetEstablished':
      return `resetEstablished(loc ${step.locality})`;
    default:
      return step.kind;
  }
}

/** Render a response for comparison: exact hex, or header + size field + length for random bytes. */
function render(r: Uint8Array, compare: 'exact' | 'headerAndSize' | undefined): string {
  if (compare === 'headerAndSize' && r.length >= 14) return `${hex(r.subarray(0, 14))}…(${r.length} bytes)`;
  return hex(r);
}

export function applyToEngine(engine: Tpm12Engine, step: Step): string {
  switch (step.kind) {
    case 'cmd':
      return render(engine.execute(step.bytes, step.locality), step.compare);
    case 'drtm': {
      const a = engine.hashStart();
      if (a !== 0) return `rc ${a}`;
      if (step.data.length > 0) {
        const b = engine.hashData(step.data);
        if (b !== 0) return `rc ${b}`;
      }
      return `rc ${engine.hashEnd()}`;
    }
    case 'hashStart':
      return `rc ${engine.hashStart()}`;
    case 'hashData':
      return `rc ${engine.hashData(step.data)}`;
    case 'hashEnd':
      return `rc ${engine.hashEnd()}`;
    case 'init':
      engine.init();
      return 'rc 0';
    case 'resetEstablished':
      return `rc ${engine.resetEstablishment(step.locality)}`;
    case 'getEstablished':
      return `established ${engine.established}`;
  }
}

/** swtpm side; tracks the locality it was last set to so SET_LOCALITY is sent only on change. */
export class SwtpmDriver {
  private locality = -1;
  constructor(readonly tpm: Swtpm) {}

  async apply(step: Step): Promise<string> {
    const t = this.tpm;
    switch (step.kind) {
      case 'cmd':
        if (step.locality !== this.locality) {
          const rc = await t.setLocality(step.locality);
          if (rc !== 0) throw new Error(`swtpm SET_LOCALITY ${step.locality} failed: ${rc}`);
          this.locality = step.locality;
        }
        return render(await t.send(step.bytes), step.compare);
      case 'drtm':
        return `rc ${await t.drtm(step.data)}`;
      case 'hashStart':
        return `rc ${await t.hashStart()}`;
      case 'hashData':
        return `rc ${await t.hashData(step.data)}`;
      case 'hashEnd':
        return `rc ${await t.hashEnd()}`;
      case 'init':
        return `rc ${await t.init()}`;
      case 'resetEstablished':
        return `rc ${await t.resetEstablished(step.locality)}`;
      case 'getEstablished':
        return `established ${await t.getEstablished()}`;
    }
  }
}

/** Run steps on both; returns the number of compared outcomes or throws with the first mismatch. */
export async function runDifferential(label: string, engine: Tpm12Engine, driver: SwtpmDriver, steps: readonly Step[]): Promise<number> {
  let n = 0;
  for (const [i, step] of steps.entries()) {
    const ours = applyToEngine(engine, step);
    const theirs = await driver.apply(step);
    if (ours !== theirs) {
      throw new Error(
        `${label} step ${i}: ${describeStep(step)}\n  engine: ${ours}\n  swtpm:  ${theirs}\n` +
          `  previous: ${steps.slice(Math.max(0, i - 5), i).map(describeStep).join('\n            ')}`,
      );
    }
    n++;
  }
  return n;
}
