/**
 * Verify a log against expected PCR values: replay, compare each (bank, PCR), and for every
 * mismatch list the events that fed it and name as likely cause any of them whose logged digest
 * differs from the hash of its data (rules in data-digest.ts).
 */
import { toHex } from '../bytes/index.js';
import { algByName, type BankName } from '../hash/index.js';
import { eventTypeName } from './constants.js';
import { checkEventDataDigest, type DataDigestFinding } from './data-digest.js';
import type { ParsedLog } from './model.js';
import { PCR_COUNT, isDrtmPcr, replayEventLog, resetValue, type ReplayOptions, type ReplayResult } from './replay.js';

/** `{bank: {"<pcr index>": "<hex>"}}`, as in the vectors' `.expected.json` `pcrs`. */
export type ExpectedPcrs = Record<string, Record<string, string>>;

export interface FeedingEvent {
  index: number;
  offset: number;
  type: number;
  typeName: string;
  digest: string;
}

export interface PcrCheck {
  bank: string;
  pcr: number;
  expected: string;
  /** Replayed value, null when the bank is not in the log or cannot be replayed. */
  actual: string | null;
  match: boolean;
  /**
   * No record extends this PCR in this bank (since its last reset): `actual` is the predicted reset
   * value, not a replayed one, and `note` says which. False when the bank was not replayed.
   */
  untouched: boolean;
  /** Mismatch only: the events whose digests make up `actual`, in order. */
  events?: FeedingEvent[];
  /** Mismatch only: feeding events whose digest for this bank differs from the hash of their data. */
  likelyCause?: DataDigestFinding[];
  /** Set for every untouched PCR, and for mismatches that need explaining. */
  note?: string;
}

export interface VerifyResult {
  ok: boolean;
  checks: PcrCheck[];
  mismatches: PcrCheck[];
  /** Every checkable event in the log whose digest differs from the hash of its data. */
  dataDigestFindings: DataDigestFinding[];
  replay: ReplayResult;
}

const BANK_ALIASES: Record<string, BankName> = { sm3: 'sm3_256' };

/** Validate the shape of an expected-PCRs object (throws TypeError). */
export function checkExpectedPcrs(x: unknown): ExpectedPcrs {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) throw new TypeError('expected PCRs must be an object {bank: {index: hex}}');
  const banks = Object.entries(x as Record<string, unknown>);
  // An empty expected set would verify nothing and still read "ok": refuse it.
  if (banks.length === 0) throw new TypeError('the expected set is empty: nothing would be verified; give at least one {bank: {index: hex}}');
  for (const [bank, m] of banks) {
    if (typeof m !== 'object' || m === null || Array.isArray(m)) throw new TypeError(`expected PCRs for ${bank} must be an object`);
    if (Object.keys(m).length === 0) throw new TypeError(`expected PCRs for ${bank} name no PCR: nothing would be verified for that bank`);
    for (const [i, v] of Object.entries(m as Record<string, unknown>)) {
      if (!/^\d{1,2}$/.test(i) || Number(i) >= PCR_COUNT) throw new TypeError(`bad PCR index ${bank}:${i}`);
      if (typeof v !== 'string' || !/^[0-9a-fA-F]*$/.test(v)) throw new TypeError(`bad hex for ${bank}:${i}`);
    }
  }
  return x as ExpectedPcrs;
}

/** What an untouched PCR is compared with, in words. */
function resetNote(pcr: number, size: number, replay: ReplayResult): string {
  let what: string;
  if (isDrtmPcr(pcr)) {
    if (!replay.dynamicLaunch) what = 'all ones (PCR 17–22 before any dynamic launch; the log shows none)';
    else if (replay.launchRecord !== null) what = `zero (the dynamic launch at record ${replay.launchRecord} resets PCR 17–22)`;
    else what = 'zero (PCR 17–22 after a dynamic launch)';
  } else if (pcr === 0 && replay.startupLocality !== null) {
    what = `${toHex(resetValue(size, 0, replay))} (StartupLocality ${replay.startupLocality})`;
  } else {
    what = 'zero';
  }
  return `no record extends this PCR in this bank: compared with its reset value, ${what}`;
}

export function verifyEventLog(log: ParsedLog, expected: ExpectedPcrs, opts: ReplayOptions = {}): VerifyResult {
  const replay = replayEventLog(log, opts);
  const findings: DataDigestFinding[] = [];
  for (const e of log.events) {
    const f = checkEventDataDigest(e);
    if (f) findings.push(f);
  }
  const byIndex = new Map(log.events.map((e) => [e.index, e]));
  const checks: PcrCheck[] = [];
  for (const [bankIn, m] of Object.entries(expected)) {
    const bank = BANK_ALIASES[bankIn] ?? bankIn;
    const alg = algByName(bank);
    const values = alg ? replay.pcrs[alg.name] : undefined;
    const feedingOf = alg ? replay.feeding[alg.name] : undefined;
    for (const [idx, hex] of Object.entries(m)) {
      const pcr = Number(idx);
      const expectedHex = hex.toLowerCase();
      const v = values?.[pcr];
      const actual = v ? toHex(v) : null;
      const fed = feedingOf?.[pcr] ?? [];
      const untouched = actual !== null && fed.length === 0;
      const check: PcrCheck = { bank: bankIn, pcr, expected: expectedHex, actual, match: actual === expectedHex, untouched };
      if (untouched && alg) {
        check.note = resetNote(pcr, alg.size, replay);
        if (!check.match) {
          const zero = /^0+$/.test(expectedHex);
          check.note +=
            isDrtmPcr(pcr) && !replay.dynamicLaunch && zero
              ? '; a zero PCR 17–22 needs a dynamic launch, which the log does not show'
              : '; the expected value needs records the log does not have, or comes from another boot';
        }
      }
      if (!check.match && alg && actual !== null) {
        const feeding = fed.map((i) => byIndex.get(i)).filter((e) => e !== undefined);
        check.events = feeding.map((e) => ({
          index: e.index,
          offset: e.offset,
          type: e.type,
          typeName: eventTypeName(e.type),
          digest: toHex(e.digests.find((d) => d.algorithmId === alg.algId)?.digest ?? new Uint8Array(0)),
        }));
        const ids = new Set(fed);
        check.likelyCause = findings.filter((f) => ids.has(f.eventIndex) && f.algorithms.includes(alg.algId));
        if (!untouched && check.likelyCause.length === 0) {
          check.note = 'no feeding event has a digest that contradicts its data: an event may be missing, extra or not hash-checkable, or the expected value comes from another boot';
        }
      } else if (!check.match && !alg) {
        check.note = `bank ${bankIn} is unknown`;
      } else if (!check.match) {
        check.note = `bank ${bankIn} is not in the log or cannot be replayed`;
      }
      checks.push(check);
    }
  }
  const mismatches = checks.filter((c) => !c.match);
  return { ok: mismatches.length === 0, checks, mismatches, dataDigestFindings: findings, replay };
}
