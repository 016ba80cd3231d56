/**
 * PCR banks, PC Client PCR attributes and the pcrUpdateCounter, as libtpms 0.9.2 `PCR.c`
 * implements them (TPM 2.0 Part 3 §22; ms-tpm-20-ref `PCR.c` `s_initAttributes`).
 *
 * NOTE (libtpms master vs swtpm): libtpms master (`PlatformPcr.c`) gives resetLocality 2,3,4 (0x1C)
 * for PCR 20–22. libtpms 0.9.2 — what swtpm 0.7.1 runs — still has 2,4 (0x14); swtpm's
 * GetCapability(TPM_CAP_PCR_PROPERTIES, RESET_L3) lists only PCR 16 and 23. We follow swtpm.
 */
import { digest, type HashAlg } from '../hash/index.js';
import type { Locality } from '../tpm/engine.js';
import { LIMITS } from './constants.js';
import type { HashSuite, PcrSelection } from './structures.js';

export interface PcrAttributes {
  /** Saved by Shutdown(STATE) and restored by Startup(STATE). */
  readonly stateSave: boolean;
  /** Bit n set: TPM2_PCR_Reset allowed at locality n (locality 4 is refused anyway). */
  readonly resetLocality: number;
  /** Bit n set: extend allowed at locality n. */
  readonly extendLocality: number;
}

const STATIC: PcrAttributes = { stateSave: true, resetLocality: 0x00, extendLocality: 0x1f };
/** libtpms 0.9.2 `s_initAttributes` (PC Client), PCR 0–23. */
export const PCR_ATTRIBUTES: readonly PcrAttributes[] = [
  ...Array.from({ length: 16 }, () => STATIC), // 0–15 static RTM
  { stateSave: false, resetLocality: 0x0f, extendLocality: 0x1f }, // 16 debug
  { stateSave: false, resetLocality: 0x10, extendLocality: 0x1c }, // 17 DRTM (locality 4)
  { stateSave: false, resetLocality: 0x10, extendLocality: 0x1c }, // 18
  { stateSave: false, resetLocality: 0x10, extendLocality: 0x0c }, // 19
  { stateSave: false, resetLocality: 0x14, extendLocality: 0x0e }, // 20
  { stateSave: false, resetLocality: 0x14, extendLocality: 0x04 }, // 21
  { stateSave: false, resetLocality: 0x14, extendLocality: 0x04 }, // 22
  { stateSave: false, resetLocality: 0x0f, extendLocality: 0x1f }, // 23 application
];

function attr(pcr: number): PcrAttributes {
  const a = PCR_ATTRIBUTES[pcr];
  if (!a) throw new RangeError(`PCR ${pcr} not implemented`);
  return a;
}

/** TCB group (ENABLE_PCR_NO_INCREMENT, libtpms "PC Client"): changes do not bump pcrUpdateCounter. */
export function inTcbGroup(pcr: number): boolean {
  return pcr === 16 || (pcr >= 21 && pcr <= 23);
}
/** The single policy group and the single authValue group (NUM_*_PCR_GROUP = 1): PCR 20–22. */
export function inPolicyOrAuthGroup(pcr: number): boolean {
  return pcr >= 20 && pcr <= 22;
}

export function isExtendAllowed(pcr: number, locality: Locality): boolean {
  return (attr(pcr).extendLocality & (1 << locality)) !== 0;
}
/** PCRIsResetAllowed: a DRTM TPM never resets by command at locality 4. */
export function isResetAllowed(pcr: number, locality: Locality): boolean {
  if (locality === 4) return false;
  return (attr(pcr).resetLocality & (1 << locality)) !== 0;
}
export function isStateSaved(pcr: number): boolean {
  return attr(pcr).stateSave;
}

export function bitIsSet(bitmap: Uint8Array, n: number): boolean {
  return ((bitmap[n >> 3] ?? 0) & (1 << (n & 7))) !== 0;
}

/** Startup kinds as libtpms' STARTUP_TYPE. */
export type StartupKind = 'reset' | 'restart' | 'resume';

/** The PCR banks: values for every implemented algorithm, the allocation, and pcrUpdateCounter. */
export class PcrStore {
  /**
   * Per implemented algorithm, its 24 PCRs back to back, all banks in one buffer (24 small arrays
   * per bank would cost a session more than their data); views are made when asked for.
   */
  private readonly store: Uint8Array[];
  constructor(
    readonly suite: HashSuite,
    /** gp.pcrAllocated in RAM: one 3-byte bitmap per implemented algorithm, suite order. */
    public allocation: Uint8Array[],
    public counter = 0,
    values?: Uint8Array[][],
  ) {
    const one = new Uint8Array(suite.algs.reduce((n, a) => n + LIMITS.IMPLEMENTATION_PCR * a.size, 0));
    let at = 0;
    this.store = suite.algs.map((a, i) => {
      const all = one.subarray(at, (at += LIMITS.IMPLEMENTATION_PCR * a.size));
      values?.[i]?.forEach((v, pcr) => all.set(v.subarray(0, a.size), pcr * a.size));
      return all;
    });
  }

  /** values[algIndex][pcr]: views of the PCRs (writing to one changes the PCR). */
  get values(): Uint8Array[][] {
    return this.suite.algs.map((_, i) => Array.from({ length: LIMITS.IMPLEMENTATION_PCR }, (_, pcr) => this.view(i, pcr) as Uint8Array));
  }

  /**
   * hex of every bank's 24 PCRs back to back, [algIndex] (what a snapshot keeps); '' for a bank with
   * no PCR allocated: its values can never be read (PCRRead and PCRExtend go by the allocation) and
   * every PCR is rewritten by PCRStartup before a bank allocated later could be (ms-tpm-20-ref
   * PCR.c PCRStartup), so a snapshot need not carry them (a third of a default session's head).
   */
  hexBanks(): string[] {
    return this.store.map((all, i) => (this.allocation[i]?.some((b) => b !== 0) ? Buffer.from(all.buffer, all.byteOffset, all.byteLength).toString('hex') : ''));
  }

  /** Copies of the 24 PCRs of one bank (algIndex in suite order). */
  bankCopies(algIndex: number): Uint8Array[] {
    const all = this.store[algIndex];
    const size = this.suite.algs[algIndex]?.size ?? 0;
    if (!all) return [];
    return Array.from({ length: LIMITS.IMPLEMENTATION_PCR }, (_, pcr) => all.slice(pcr * size, (pcr + 1) * size));
  }

  private view(algIndex: number, pcr: number): Uint8Array | undefined {
    const all = this.store[algIndex];
    const size = this.suite.algs[algIndex]?.size ?? 0;
    if (!all || pcr < 0 || pcr >= LIMITS.IMPLEMENTATION_PCR) return undefined;
    return all.subarray(pcr * size, (pcr + 1) * size);
  }

  private algIndex(algId: number): number {
    return this.suite.algs.findIndex((a) => a.algId === algId);
  }

  isAllocated(pcr: number, algId: number): boolean {
    if (pcr >= LIMITS.IMPLEMENTATION_PCR) return false;
    const i = this.algIndex(algId);
    const bm = this.allocation[i];
    return bm !== undefined && bitIsSet(bm, pcr);
  }

  value(pcr: number, algId: number): Uint8Array | undefined {
    if (!this.isAllocated(pcr, algId)) return undefined;
    return this.view(this.algIndex(algId), pcr);
  }

  /** PCRChanged: PCR 0 always counts; the TCB group never does. */
  changed(pcr: number): void {
    if (pcr === 0 || !inTcbGroup(pcr)) this.counter = (this.counter + 1) >>> 0;
  }

  /** PCRExtend: only an allocated bank changes (and only then does the counter move). */
  extend(pcr: number, alg: HashAlg, data: Uint8Array): void {
    const v = this.value(pcr, alg.algId);
    if (!v) return;
    v.set(digest(alg, v, data));
    this.changed(pcr);
  }

  /** PCRSetValue(pcr, 0) as TPM2_PCR_Reset uses it: every allocated bank becomes zero. */
  resetToZero(pcr: number): void {
    for (const a of this.suite.algs) this.value(pcr, a.algId)?.fill(0);
  }

  /** PCRResetDynamics: every PCR resettable from locality 4 becomes zero (no counter change). */
  resetDynamics(): void {
    for (let pcr = 0; pcr < LIMITS.IMPLEMENTATION_PCR; pcr++) {
      if ((attr(pcr).resetLocality & 0x10) === 0) continue;
      for (const a of this.suite.algs) this.value(pcr, a.algId)?.fill(0);
    }
  }

  /** PcrDrtm: zero the PCR (0…04 before Startup, the H-CRTM case), then extend the digest. */
  drtm(pcr: number, alg: HashAlg, d: Uint8Array, started: boolean): void {
    const v = this.value(pcr, alg.algId);
    if (!v) return;
    v.fill(0);
    if (!started) v[v.length - 1] = 4;
    this.extend(pcr, alg, d);
  }

  /** PCRStateSave for Shutdown(STATE): copies of the stateSave PCRs, per bank. */
  stateSave(): Uint8Array[][] {
    return this.values.map((bank) => bank.map((v, pcr) => (isStateSaved(pcr) ? v.slice() : new Uint8Array(0))));
  }

  /** PCRStartup. */
  startup(kind: StartupKind, locality: number, hcrtmDone: boolean, saved: Uint8Array[][] | undefined): void {
    if (kind === 'reset') this.counter = 0;
    for (let pcr = 0; pcr < LIMITS.IMPLEMENTATION_PCR; pcr++) {
      const restore = kind === 'resume' && isStateSaved(pcr);
      if (!restore) this.changed(pcr);
      if (pcr === LIMITS.HCRTM_PCR && kind !== 'resume' && hcrtmDone) continue;
      this.suite.algs.forEach((a, i) => {
        const v = this.value(pcr, a.algId);
        if (!v) return;
        if (restore) {
          v.set(saved?.[i]?.[pcr] ?? new Uint8Array(v.length));
        } else if ((attr(pcr).resetLocality & 0x10) !== 0) {
          v.fill(0xff);
        } else {
          v.fill(0);
          if (pcr === LIMITS.HCRTM_PCR) v[v.length - 1] = locality;
        }
      });
    }
  }

  /**
   * PCRRead: filter each selection by allocation, return at most 8 digests and clear the bits
   * (and later selections) that did not fit.
   */
  read(selections: PcrSelection[]): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (let i = 0; i < selections.length; i++) {
      const sel = selections[i];
      if (!sel) continue;
      this.filter(sel);
      let pcr = 0;
      for (; pcr < LIMITS.IMPLEMENTATION_PCR; pcr++) {
        if (!bitIsSet(sel.pcrSelect, pcr)) continue;
        if (out.length > 7) {
          while (pcr < LIMITS.IMPLEMENTATION_PCR && pcr >> 3 < sel.sizeofSelect) {
            sel.pcrSelect[pcr >> 3] = (sel.pcrSelect[pcr >> 3] ?? 0) & ~(1 << (pcr & 7));
            pcr++;
          }
          break;
        }
        const v = this.value(pcr, sel.hash);
        if (v) out.push(v.slice());
      }
      if (out.length > 7 && pcr < LIMITS.IMPLEMENTATION_PCR) {
        for (let j = i; j < selections.length; j++) selections[j]?.pcrSelect.fill(0);
        break;
      }
    }
    return out;
  }

  /** FilterPcr: clear bits of unallocated PCRs and of banks that are not in the allocation list. */
  private filter(sel: PcrSelection): void {
    const i = this.algIndex(sel.hash);
    const bm = this.allocation[i];
    for (let b = 0; b < sel.sizeofSelect; b++) sel.pcrSelect[b] = bm ? (sel.pcrSelect[b] ?? 0) & (bm[b] ?? 0) : 0;
  }
}
