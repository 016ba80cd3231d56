/**
 * Verify a log against expected PCR values: replay, compare each (bank, PCR), and for every
 * mismatch list the events that fed it and name as likely cause any of them whose logged digest
 * differs from the hash of its data (rules in data-digest.ts).
 */
import { toHex } from '../bytes/index.js';
import { algByName, type BankName } from '../hash/index.js';
import { EV, eventTypeName } from './constants.js';
import { checkEventDataDigest, type DataDigestFinding } from './data-digest.js';
import type { ParsedLog } from './model.js';
import { PCR_COUNT, replayEventLog, type ReplayOptions, type ReplayResult } from './replay.js';

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
  /** Mismatch only: events extended into this (bank, PCR), in order. */
  events?: FeedingEvent[];
  /** Mismatch only: feeding events whose digest for this bank differs from the hash of their data. */
  likelyCause?: DataDigestFinding[];
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

export function verifyEventLog(log: ParsedLog, expected: ExpectedPcrs, opts: ReplayOptions = {}): VerifyResult {
  const replay = replayEventLog(log, opts);
  const findings: DataDigestFinding[] = [];
  for (const e of log.events) {
    const f = checkEventDataDigest(e);
    if (f) findings.push(f);
  }
  const checks: PcrCheck[] = [];
  for (const [bankIn, m] of Object.entries(expected)) {
    const bank = BANK_ALIASES[bankIn] ?? bankIn;
    const alg = algByName(bank);
    const values = alg ? replay.pcrs[alg.name] : undefined;
    for (const [idx, hex] of Object.entries(m)) {
      const pcr = Number(idx);
      const expectedHex = hex.toLowerCase();
      const v = values?.[pcr];
      const actual = v ? toHex(v) : null;
      const check: PcrCheck = { bank: bankIn, pcr, expected: expectedHex, actual, match: actual === expectedHex };
      if (!check.match && alg) {
        const feeding = log.events.filter((e) => e.type !== EV.NO_ACTION && e.pcr === pcr && e.digests.some((d) => d.algorithmId === alg.algId));
        check.events = feeding.map((e) => ({
          index: e.index,
          offset: e.offset,
          type: e.type,
          typeName: eventTypeName(e.type),
          digest: toHex(e.digests.find((d) => d.algorithmId === alg.algId)?.digest ?? new Uint8Array(0)),
        }));
        const ids = new Set(feeding.map((e) => e.index));
        check.likelyCause = findings.filter((f) => ids.has(f.eventIndex) && f.algorithms.includes(alg.algId));
        if (feeding.length === 0) {
          check.note = 'no event in the log extends this PCR in this bank';
        } else if (check.likelyCause.length === 0) {
          check.note = 'no feeding event has a digest that contradicts its data: an event may be missing, extra or not hash-checkable, or the expected value comes from another boot';
        }
      } else if (!check.match) {
        check.note = `bank ${bankIn} is unknown`;
      }
      if (!check.match && actual === null && alg) check.note = `bank ${bankIn} is not in the log or cannot be replayed`;
      checks.push(check);
    }
  }
  const mismatches = checks.filter((c) => !c.match);
  return { ok: mismatches.length === 0, checks, mismatches, dataDigestFindings: findings, replay };
}
