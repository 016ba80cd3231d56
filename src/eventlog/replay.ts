/**
 * Replay: recompute PCR values from a parsed log, modelling the PC Client TPM the log was written
 * on. The rules are documented for users in docs/replay-verify.md ("How the replay models the TPM").
 *
 * Reset values (PC Client PCR attributes: TCG PC Client Platform TPM Profile; libtpms
 * `TPM_PCR_Init` for TPM 1.2 and `PCRStartup` for TPM 2.0; our engines in src/tpm12, src/tpm2):
 * - PCR 0–16 and 23 start at zero. A PCR 0 EV_NO_ACTION "StartupLocality\0"+L record (TCG PC
 *   Client PFP StartupLocality event) makes PCR 0 start at 00..0L in every bank: L = 3 for a
 *   TPM2_Startup at locality 3, L = 4 for an H-CRTM (_TPM_Hash_Start before TPM2_Startup, which
 *   extends PCR 0 and leaves PCR 17–22 alone — not a dynamic launch).
 * - PCR 17–22 start at all ones (their reset locality includes locality 4).
 *
 * Dynamic launch: a launch (TPM 1.2 TIS HASH_START, libtpms `TPM_IO_Hash_Start`; TPM 2.0
 * _TPM_Hash_Start/_TPM_Hash_End, TPM 2.0 Part 3 §33 / libtpms `PCRResetDynamics`) sets PCR 17–22 to
 * zero together, in every bank. The log shows it by its *launch record*: the first record, in log
 * order, whose PCR is 17–22 and whose type is a DRTM type (`isDrtmEventType`: Intel TXT 0x400–0x4FF,
 * e.g. SINIT's EVTYPE_HASH_START 0x402 on PCR 17; TrenchBoot Secure Launch 0x502–0x504). Just
 * before that record is extended, PCR 17–22 become zero in every bank, whatever earlier records
 * extended into them (a warning names those records). Later DRTM records only extend: a log holds
 * at most one launch. Not launch records: EV_NO_ACTION records of any kind, DRTM types on other
 * PCRs (e.g. TXT PCR-mapping records on PCR 255), a StartupLocality record, and the TXT container
 * header by itself. The rule is the same for `tcg2-agile`, `tpm12-sha1` and `txt-container` logs.
 * `drtmStart` overrides it: 'zero' = a launch before the first record (17–22 start at zero, no
 * record resets them); 'ones' = no launch at all (17–22 start at all ones, no record resets them).
 *
 * Extending:
 * - EV_NO_ACTION records are never extended (Spec ID, StartupLocality, SP800-155 Event3, …).
 * - Each bank is extended with that record's digest for that bank; a record lacking a bank's
 *   digest leaves that bank unchanged. Banks whose algorithm Node cannot compute are not replayed.
 * - Records on a PCR index ≥ 24 (other than EV_NO_ACTION) are not extended; they produce a warning.
 *
 * A PCR is *touched* in a bank when its value includes at least one record's digest (it was
 * extended after its last reset); otherwise it is *untouched* and holds its reset value.
 */
import { toHex } from '../bytes/index.js';
import { algById, extendValue, nodeSupports, type BankName, type HashAlg } from '../hash/index.js';
import { EV, isDrtmEventType } from './constants.js';
import type { LogEvent, ParsedLog } from './model.js';

export const PCR_COUNT = 24;
export const DRTM_PCR_FIRST = 17;
export const DRTM_PCR_LAST = 22;
const STARTUP_LOCALITY_SIG = new TextEncoder().encode('StartupLocality\0');

export type DrtmStart = 'auto' | 'zero' | 'ones';

export interface ReplayOptions {
  /** PCR 17–22: 'auto' (the launch-record rule above), 'zero' (launched before the log), 'ones' (never launched). */
  drtmStart?: DrtmStart;
}

export interface ReplayResult {
  /** bank → 24 PCR values. */
  pcrs: Partial<Record<BankName, Uint8Array[]>>;
  /** bank → indices of the PCRs whose value includes at least one record's digest, ascending. */
  touched: Partial<Record<BankName, number[]>>;
  /** bank → the other PCR indices, ascending: they hold their reset value (`resetValue`). */
  untouched: Partial<Record<BankName, number[]>>;
  /** bank → per PCR, the indices of the records whose digests make up its value, in order. */
  feeding: Partial<Record<BankName, number[][]>>;
  startupLocality: number | null;
  /** Whether the replay models a dynamic launch (PCR 17–22 were reset to zero). */
  dynamicLaunch: boolean;
  /** Index of the launch record ('auto' only); null when there is none or the start was forced. */
  launchRecord: number | null;
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

export const isDrtmPcr = (pcr: number): boolean => pcr >= DRTM_PCR_FIRST && pcr <= DRTM_PCR_LAST;

/** Whether the record counts as evidence of a dynamic launch (see the module comment). */
export function isLaunchRecord(e: Pick<LogEvent, 'pcr' | 'type'>): boolean {
  return e.type !== EV.NO_ACTION && isDrtmPcr(e.pcr) && isDrtmEventType(e.type);
}

/** The launch record: the first record that counts as a dynamic launch, if any. */
export function findLaunchRecord(log: ParsedLog): LogEvent | undefined {
  return log.events.find(isLaunchRecord);
}

/** Whether the log shows a dynamic launch (it has a launch record). */
export function showsDynamicLaunch(log: ParsedLog): boolean {
  return findLaunchRecord(log) !== undefined;
}

/**
 * The value a PCR holds when no record extended it since its last reset: all ones for 17–22
 * without a dynamic launch, 00..0L for PCR 0 after a StartupLocality L record, zero otherwise.
 */
export function resetValue(size: number, pcr: number, r: Pick<ReplayResult, 'startupLocality' | 'dynamicLaunch'>): Uint8Array {
  const v = new Uint8Array(size);
  if (isDrtmPcr(pcr) && !r.dynamicLaunch) v.fill(0xff);
  if (pcr === 0 && r.startupLocality !== null) v[size - 1] = r.startupLocality;
  return v;
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
  const mode = opts.drtmStart ?? 'auto';
  const launch = mode === 'auto' ? findLaunchRecord(log) : undefined;
  // Before the launch record (or for good with 'ones'), 17–22 hold their power-on value.
  const atStart = { startupLocality: locality, dynamicLaunch: mode === 'zero' };
  const pcrs: Partial<Record<BankName, Uint8Array[]>> = {};
  const feeding: Partial<Record<BankName, number[][]>> = {};
  for (const a of algs) {
    pcrs[a.name] = Array.from({ length: PCR_COUNT }, (_, i) => resetValue(a.size, i, atStart));
    feeding[a.name] = Array.from({ length: PCR_COUNT }, () => []);
  }
  for (const e of log.events) {
    if (e === launch) {
      const wiped = new Set<number>();
      for (const a of algs) {
        for (let i = DRTM_PCR_FIRST; i <= DRTM_PCR_LAST; i++) {
          (pcrs[a.name] as Uint8Array[])[i] = new Uint8Array(a.size);
          const f = (feeding[a.name] as number[][])[i] as number[];
          for (const x of f) wiped.add(x);
          f.length = 0;
        }
      }
      if (wiped.size > 0) {
        const list = [...wiped].sort((x, y) => x - y).join(', ');
        warnings.push(`record ${e.index}: the dynamic launch resets PCR 17–22 to zero, so the extends of earlier record(s) ${list} do not count`);
      }
    }
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
      feeding[a.name]?.[e.pcr]?.push(e.index);
    }
  }
  const touched: Partial<Record<BankName, number[]>> = {};
  const untouched: Partial<Record<BankName, number[]>> = {};
  for (const a of algs) {
    const f = feeding[a.name] as number[][];
    touched[a.name] = f.flatMap((x, i) => (x.length > 0 ? [i] : []));
    untouched[a.name] = f.flatMap((x, i) => (x.length === 0 ? [i] : []));
  }
  return {
    pcrs,
    touched,
    untouched,
    feeding,
    startupLocality: locality,
    dynamicLaunch: mode === 'zero' || launch !== undefined,
    launchRecord: launch?.index ?? null,
    skippedAlgorithms: skipped,
    warnings,
  };
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
