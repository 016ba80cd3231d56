/**
 * Replay: recompute PCR values from a parsed log.
 *
 * Rules (TCG PC Client PFP StartupLocality event; PC Client PCR initial values as in libtpms/ms-tpm-20-ref):
 * - EV_NO_ACTION records are never extended (Spec ID, StartupLocality, SP800-155 Event3, …).
 * - A PCR 0 EV_NO_ACTION "StartupLocality\0"+L record makes PCR 0 start at 00..0L in every bank.
 * - PCRs 0–16 and 23 start at zero.
 * - DRTM PCRs 17–22: the log "shows a dynamic launch" when it is a TXT event container (bare or
 *   nested in Spec ID Event00), or when any extended record on PCR 17–22 has a DRTM type (TXT
 *   0x400–0x4FF or Secure Launch 0x502–0x504). Then 17–22 start at zero (the reset done by the
 *   launch: libtpms TPM12_IO_Hash_Start, ms-tpm-20-ref _TPM_Hash_End). Otherwise they start at FF..FF for `tpm12-sha1` logs (TPM 1.2
 *   power-on value) and at zero for `tcg2-agile` logs (what tpm2_eventlog and go-attestation assume;
 *   firmware logs never touch 17–22). `drtmStart` overrides the choice.
 * - Each bank is extended with that record's digest for that bank; a record lacking a bank's
 *   digest leaves that bank unchanged. Banks whose algorithm Node cannot compute are not replayed.
 * - Records on a PCR index ≥ 24 (other than EV_NO_ACTION) are not extended; they produce a warning.
 */
import { toHex } from '../bytes/index.js';
import { algById, extendValue, nodeSupports, type BankName, type HashAlg } from '../hash/index.js';
import { EV, isDrtmEventType } from './constants.js';
import type { ParsedLog } from './model.js';

export const PCR_COUNT = 24;
export const DRTM_PCR_FIRST = 17;
export const DRTM_PCR_LAST = 22;
const STARTUP_LOCALITY_SIG = new TextEncoder().encode('StartupLocality\0');

export interface ReplayOptions {
  /** Start value of PCRs 17–22: 'auto' (rule above), 'zero' or 'ones'. */
  drtmStart?: 'auto' | 'zero' | 'ones';
}

export interface ReplayResult {
  /** bank → 24 PCR values. */
  pcrs: Partial<Record<BankName, Uint8Array[]>>;
  /** bank → indices of PCRs that at least one record extended. */
  touched: Partial<Record<BankName, number[]>>;
  startupLocality: number | null;
  dynamicLaunch: boolean;
  /** Algorithm ids present in the log that were not replayed (unknown to the hash table or to Node). */
  skippedAlgorithms: number[];
  warnings: string[];
}

/** StartupLocality value if the record is a PCR 0 EV_NO_ACTION StartupLocality event. */
export function startupLocalityOf(pcr: number, type: number, data: Uint8Array): number | null {
  if (pcr !== 0 || type !== EV.NO_ACTION || data.length !== STARTUP_LOCALITY_SIG.length + 1) return null;
  for (let i = 0; i < STARTUP_LOCALITY_SIG.length; i++) if (data[i] !== STARTUP_LOCALITY_SIG[i]) return null;
  return data[STARTUP_LOCALITY_SIG.length] ?? null;
}

/** Whether the log shows a dynamic launch (see the module comment). */
export function showsDynamicLaunch(log: ParsedLog): boolean {
  if (log.format === 'txt-container') return true;
  return log.events.some(
    (e) => e.type !== EV.NO_ACTION && e.pcr >= DRTM_PCR_FIRST && e.pcr <= DRTM_PCR_LAST && isDrtmEventType(e.type),
  );
}

export function replayEventLog(log: ParsedLog, opts: ReplayOptions = {}): ReplayResult {
  const warnings: string[] = [];
  const skipped: number[] = [];
  const algs: HashAlg[] = [];
  for (const a of log.algorithms) {
    const h = algById(a.algorithmId);
    if (h && h.size === a.digestSize && nodeSupports(h)) algs.push(h);
    else skipped.push(a.algorithmId);
  }
  let locality: number | null = null;
  for (const e of log.events) {
    const l = startupLocalityOf(e.pcr, e.type, e.data);
    if (l !== null) {
      if (locality !== null) warnings.push(`record ${e.index}: second StartupLocality event ignored`);
      else locality = l;
    }
  }
  const launch = showsDynamicLaunch(log);
  const mode = opts.drtmStart ?? 'auto';
  const drtmOnes = mode === 'ones' || (mode === 'auto' && !launch && log.format === 'tpm12-sha1');
  const pcrs: Partial<Record<BankName, Uint8Array[]>> = {};
  const touched: Partial<Record<BankName, Set<number>>> = {};
  for (const a of algs) {
    const bank: Uint8Array[] = [];
    for (let i = 0; i < PCR_COUNT; i++) {
      const v = new Uint8Array(a.size);
      if (i >= DRTM_PCR_FIRST && i <= DRTM_PCR_LAST && drtmOnes) v.fill(0xff);
      bank.push(v);
    }
    if (locality !== null) (bank[0] as Uint8Array)[a.size - 1] = locality;
    pcrs[a.name] = bank;
    touched[a.name] = new Set();
  }
  for (const e of log.events) {
    if (e.type === EV.NO_ACTION) continue;
    if (e.pcr >= PCR_COUNT) {
      warnings.push(`record ${e.index}: PCR ${e.pcr} out of range, not extended`);
      continue;
    }
    for (const d of e.digests) {
      const a = algs.find((x) => x.algId === d.algorithmId);
      const bank = a ? pcrs[a.name] : undefined;
      if (!a || !bank) continue;
      bank[e.pcr] = extendValue(a, bank[e.pcr] as Uint8Array, d.digest);
      touched[a.name]?.add(e.pcr);
    }
  }
  const touchedOut: Partial<Record<BankName, number[]>> = {};
  for (const [k, v] of Object.entries(touched) as [BankName, Set<number>][]) touchedOut[k] = [...v].sort((x, y) => x - y);
  return { pcrs, touched: touchedOut, startupLocality: locality, dynamicLaunch: launch, skippedAlgorithms: skipped, warnings };
}

/** `{bank: {index: hex}}` of the touched PCRs (or of all 24 with `all`). */
export function pcrsToHex(r: ReplayResult, all = false): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const [bank, values] of Object.entries(r.pcrs) as [BankName, Uint8Array[]][]) {
    const idx = all ? values.map((_, i) => i) : (r.touched[bank] ?? []);
    const m: Record<string, string> = {};
    for (const i of idx) m[String(i)] = toHex(values[i] as Uint8Array);
    out[bank] = m;
  }
  return out;
}
