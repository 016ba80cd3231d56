/**
 * The launch manifest: which blobs a Xen Secure Launch measures, in which order, with which session
 * options. Validation is by hand (one set of messages for the JSON body, the multipart manifest part
 * and the CLI); every message names the field. Structural mistakes are 400 (`invalid-request`), the
 * Secure Launch rules the seed would panic on are 422 (`launch-rule`).
 *
 * Launch order (Xen slaunch patch series for Intel TXT, TrenchBoot Secure Launch spec v0.6 "DRTM
 * policy"):
 *  0. the dynamic launch (GETSEC[SENTER]: HASH_START/DATA/END at locality 4, then SINIT's events);
 *  1. the Multiboot2 information, hashed by the TPM (`tpm_extend_mbi`, called from head.S);
 *  2. the SLRT INTEL_INFO entry with its addresses zeroed (`slaunch_measure_slrt`);
 *  3. the DRTM policy entries from index 2 on, in policy order (`slaunch_process_drtm_policy`).
 */
import { DomainError } from '../errors.js';
import { BANK_NAMES, type BankName } from '../hash/index.js';
import type { SessionRequest } from '../sessions/options.js';
import { decodeBase64Strict, fromHex } from '../bytes/index.js';

/** SLR entity types (TrenchBoot SLRT spec "DRTM Policy Entry" entity_type; Xen slr-table.h SLR_ET_*). */
export const ENTITY_TYPES = {
  unspecified: 0,
  slrt: 1,
  'boot-params': 2,
  'setup-data': 3,
  cmdline: 4,
  'uefi-memmap': 5,
  ramdisk: 6,
  'multiboot2-info': 7,
  'multiboot2-module': 8,
  'txt-os2mle': 0x10,
  unused: 0xffff,
} as const;
export type EntityType = keyof typeof ENTITY_TYPES;

/**
 * Most policy entries a launch may list. The SLRT DRTM_POLICY entry counts them in a u16 (TrenchBoot
 * SLRT spec, Xen slr-table.h `nr_entries`); this service bounds a launch at 256.
 */
export const MAX_ENTRIES = 256;
/** Most combinations of variant parts one request may ask for. */
export const MAX_VARIANTS = 64;
/** PCRs SINIT's events may extend: those TXT lets locality 3 extend (TCG PC Client PTP PCR attributes; libtpms TPM_PCRAttributes_Init / PlatformPcr.c). */
export const SINIT_PCRS: readonly number[] = [17, 18, 19, 20];

/** One alternative or several (a variant set): the names of file parts. */
export type PartRef = string[];

export interface SinitEvent {
  pcr: number;
  type: number;
  digests: Partial<Record<BankName, Uint8Array>>;
  data: Uint8Array;
}

export type SinitSpec = { kind: 'part'; part: PartRef } | { kind: 'events'; events: SinitEvent[] } | { kind: 'fromLog'; part: PartRef };

export interface LaunchEntry {
  part: PartRef;
  pcr: number;
  /** The evt_info text as given (truncated to 32 bytes when applied). */
  evtInfo: Uint8Array;
  entityType: EntityType;
}

export interface LaunchManifest {
  options: SessionRequest;
  /** Option names present in the manifest (a live session checks them against its own). */
  given: (keyof SessionRequest)[];
  sinit: SinitSpec;
  mbi: PartRef;
  intelInfo: PartRef | null;
  entries: LaunchEntry[];
}

const OPTION_KEYS = ['family', 'banks', 'compat', 'logSize', 'tisProfile', 'startup', 'tis'] as const;
const TOP_KEYS = new Set<string>([...OPTION_KEYS, 'sinit', 'mbi', 'slrt', 'entries']);

function bad(field: string, msg: string): DomainError {
  return new DomainError('invalid-request', `manifest ${field}: ${msg}`, { field });
}
export function rule(field: string, msg: string): DomainError {
  return new DomainError('launch-rule', `${field}: ${msg}`, { field });
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function onlyKeys(o: Record<string, unknown>, field: string, keys: readonly string[]): void {
  for (const k of Object.keys(o)) if (!keys.includes(k)) throw bad(field, `unknown member ${JSON.stringify(k)} (allowed: ${keys.join(', ')})`);
}

const PART_NAME = /^[A-Za-z0-9._-]{1,128}$/;

function partRef(v: unknown, field: string): PartRef {
  const list = typeof v === 'string' ? [v] : v;
  if (!Array.isArray(list) || list.length === 0) throw bad(field, 'must be a part name or a non-empty list of part names (variants)');
  const out: string[] = [];
  for (const [i, n] of list.entries()) {
    if (typeof n !== 'string' || !PART_NAME.test(n)) throw bad(`${field}[${i}]`, 'a part name is 1–128 characters of A–Z a–z 0–9 . _ -');
    if (out.includes(n)) throw bad(`${field}[${i}]`, `${n} is listed twice`);
    out.push(n);
  }
  return out;
}

function intIn(v: unknown, field: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw bad(field, `must be an integer in [${min}, ${max}]`);
  return v;
}

function options(m: Record<string, unknown>): { options: SessionRequest; given: (keyof SessionRequest)[] } {
  const o: SessionRequest = {};
  const given: (keyof SessionRequest)[] = [];
  if (m.family !== undefined) {
    if (m.family !== '1.2' && m.family !== '2.0') throw bad('family', 'must be "1.2" or "2.0"');
    o.family = m.family;
  }
  if (m.banks !== undefined) {
    if (!Array.isArray(m.banks) || m.banks.length === 0) throw bad('banks', 'must be a non-empty list of banks');
    const banks: BankName[] = [];
    for (const [i, b] of m.banks.entries()) {
      if (typeof b !== 'string' || !(BANK_NAMES as readonly string[]).includes(b)) throw bad(`banks[${i}]`, `must be one of ${BANK_NAMES.join(', ')}`);
      if (banks.includes(b as BankName)) throw bad(`banks[${i}]`, `${b} is listed twice`);
      banks.push(b as BankName);
    }
    o.banks = banks;
  }
  if (m.compat !== undefined) {
    if (m.compat !== 'xen' && m.compat !== 'strict') throw bad('compat', 'must be "xen" or "strict"');
    o.compat = m.compat;
  }
  if (m.logSize !== undefined) o.logSize = intIn(m.logSize, 'logSize', 48, 0xffffffff);
  if (m.tisProfile !== undefined) {
    if (m.tisProfile !== 'tis-1.2' && m.tisProfile !== 'tis-1.3' && m.tisProfile !== 'ptp-fifo') throw bad('tisProfile', 'must be tis-1.2, tis-1.3 or ptp-fifo');
    o.tisProfile = m.tisProfile;
  }
  if (m.startup !== undefined) {
    if (m.startup !== true) throw bad('startup', 'a launch needs a started TPM: only true is allowed');
    o.startup = true;
  }
  if (m.tis !== undefined) {
    if (!isObj(m.tis)) throw bad('tis', 'must be an object');
    onlyKeys(m.tis, 'tis', ['didVid', 'rid', 'burstMax']);
    const t: NonNullable<SessionRequest['tis']> = {};
    if (m.tis.didVid !== undefined) t.didVid = intIn(m.tis.didVid, 'tis.didVid', 0, 0xffffffff);
    if (m.tis.rid !== undefined) t.rid = intIn(m.tis.rid, 'tis.rid', 0, 0xff);
    if (m.tis.burstMax !== undefined) t.burstMax = intIn(m.tis.burstMax, 'tis.burstMax', 1, 0xffff);
    o.tis = t;
  }
  for (const k of OPTION_KEYS) if (m[k] !== undefined) given.push(k);
  return { options: o, given };
}

const HEX = /^(?:[0-9a-fA-F]{2})*$/;
export function decodeBase64(v: string, field: string): Uint8Array {
  const bytes = v.length % 4 === 0 ? decodeBase64Strict(v) : undefined;
  if (!bytes) throw bad(field, 'must be base64 (RFC 4648 §4, padded)');
  return bytes;
}

function sinitEvent(v: unknown, field: string): SinitEvent {
  if (!isObj(v)) throw bad(field, 'must be an object {pcr, type, digests, data?}');
  onlyKeys(v, field, ['pcr', 'type', 'digests', 'data']);
  const pcr = intIn(v.pcr, `${field}.pcr`, 0, 23);
  const type = intIn(v.type, `${field}.type`, 0, 0xffffffff);
  if (!isObj(v.digests)) throw bad(`${field}.digests`, 'must be an object {bank: hex}');
  const digests: Partial<Record<BankName, Uint8Array>> = {};
  for (const [k, h] of Object.entries(v.digests)) {
    if (!(BANK_NAMES as readonly string[]).includes(k)) throw bad(`${field}.digests.${k}`, `unknown bank (allowed: ${BANK_NAMES.join(', ')})`);
    if (typeof h !== 'string' || !HEX.test(h)) throw bad(`${field}.digests.${k}`, 'must be a hex string');
    digests[k as BankName] = fromHex(h.toLowerCase());
  }
  let data: Uint8Array = new Uint8Array(0);
  if (v.data !== undefined) {
    if (typeof v.data !== 'string') throw bad(`${field}.data`, 'must be base64');
    data = decodeBase64(v.data, `${field}.data`);
  }
  return { pcr, type, digests, data };
}

function sinit(v: unknown): SinitSpec {
  if (!isObj(v)) throw bad('sinit', 'is required: an object with exactly one of part, events, fromLog');
  const forms = (['part', 'events', 'fromLog'] as const).filter((k) => v[k] !== undefined);
  onlyKeys(v, 'sinit', ['part', 'events', 'fromLog']);
  if (forms.length !== 1) throw bad('sinit', `must have exactly one of part, events, fromLog (has ${forms.length === 0 ? 'none' : forms.join(', ')})`);
  if (v.part !== undefined) return { kind: 'part', part: partRef(v.part, 'sinit.part') };
  if (v.fromLog !== undefined) return { kind: 'fromLog', part: partRef(v.fromLog, 'sinit.fromLog') };
  if (!Array.isArray(v.events) || v.events.length === 0) throw bad('sinit.events', 'must be a non-empty list of events');
  if (v.events.length > 4096) throw bad('sinit.events', 'at most 4096 events');
  return { kind: 'events', events: v.events.map((e, i) => sinitEvent(e, `sinit.events[${i}]`)) };
}

function entry(v: unknown, i: number): LaunchEntry {
  const field = `entries[${i}]`;
  if (!isObj(v)) throw bad(field, 'must be an object {part, pcr, evtInfo?, entityType?}');
  onlyKeys(v, field, ['part', 'pcr', 'evtInfo', 'entityType']);
  const part = partRef(v.part, `${field}.part`);
  if (typeof v.pcr !== 'number' || !Number.isInteger(v.pcr)) throw bad(`${field}.pcr`, 'must be an integer');
  let evtInfo: Uint8Array = new Uint8Array(0);
  if (v.evtInfo !== undefined) {
    if (typeof v.evtInfo !== 'string') throw bad(`${field}.evtInfo`, 'must be a string');
    if (v.evtInfo.length > 4096) throw bad(`${field}.evtInfo`, 'at most 4096 characters');
    evtInfo = new TextEncoder().encode(v.evtInfo);
  }
  let entityType: EntityType = 'unspecified';
  if (v.entityType !== undefined) {
    if (typeof v.entityType !== 'string' || !(v.entityType in ENTITY_TYPES)) throw bad(`${field}.entityType`, `must be one of ${Object.keys(ENTITY_TYPES).join(', ')}`);
    entityType = v.entityType as EntityType;
  }
  // The seed's checks, as 422s instead of its panics (Xen slaunch patch: slaunch_process_drtm_policy).
  if (entityType === 'slrt' || entityType === 'multiboot2-info') {
    throw rule(`${field}.entityType`, `${entityType} is measured by its own step (the MBI by tpm_extend_mbi, the SLRT by slaunch_measure_slrt); Xen panics on a second ${entityType} entry`);
  }
  if (v.pcr !== 17 && v.pcr !== 18) throw rule(`${field}.pcr`, `policy entries extend PCR 17 or 18 (DRTM_CODE_PCR / DRTM_DATA_PCR), got ${v.pcr}`);
  return { part, pcr: v.pcr, evtInfo, entityType };
}

/** Validate a manifest object (already JSON-parsed). */
export function parseManifest(v: unknown): LaunchManifest {
  if (!isObj(v)) throw bad('(root)', 'must be a JSON object');
  for (const k of Object.keys(v)) if (!TOP_KEYS.has(k)) throw bad(k, `unknown member (allowed: ${[...TOP_KEYS].join(', ')})`);
  const { options: opts, given } = options(v);
  const s = sinit(v.sinit);
  if (!isObj(v.mbi)) throw bad('mbi', 'is required: {"part": name}');
  onlyKeys(v.mbi, 'mbi', ['part']);
  const mbi = partRef(v.mbi.part, 'mbi.part');
  let intelInfo: PartRef | null = null;
  if (v.slrt !== undefined) {
    if (!isObj(v.slrt)) throw bad('slrt', 'must be {"intelInfo": {"part": name}}');
    onlyKeys(v.slrt, 'slrt', ['intelInfo']);
    if (!isObj(v.slrt.intelInfo)) throw bad('slrt.intelInfo', 'must be {"part": name}');
    onlyKeys(v.slrt.intelInfo, 'slrt.intelInfo', ['part']);
    intelInfo = partRef(v.slrt.intelInfo.part, 'slrt.intelInfo.part');
  }
  const rawEntries = v.entries ?? [];
  if (!Array.isArray(rawEntries)) throw bad('entries', 'must be a list');
  if (rawEntries.length > MAX_ENTRIES) throw rule('entries', `at most ${MAX_ENTRIES} policy entries (Xen's DRTM policy limit), got ${rawEntries.length}`);
  const entries = rawEntries.map((e, i) => entry(e, i));
  const m: LaunchManifest = { options: opts, given, sinit: s, mbi, intelInfo, entries };
  const n = variantCount(m);
  if (n > MAX_VARIANTS) throw rule('(variants)', `the variant parts give ${n} combinations; at most ${MAX_VARIANTS}`);
  return m;
}

/** Each place that names parts, with its field path. */
export function partSlots(m: LaunchManifest): { field: string; ref: PartRef; role: 'sinit' | 'log' | 'mbi' | 'intelInfo' | 'entry' }[] {
  const out: { field: string; ref: PartRef; role: 'sinit' | 'log' | 'mbi' | 'intelInfo' | 'entry' }[] = [];
  if (m.sinit.kind === 'part') out.push({ field: 'sinit.part', ref: m.sinit.part, role: 'sinit' });
  if (m.sinit.kind === 'fromLog') out.push({ field: 'sinit.fromLog', ref: m.sinit.part, role: 'log' });
  out.push({ field: 'mbi.part', ref: m.mbi, role: 'mbi' });
  if (m.intelInfo) out.push({ field: 'slrt.intelInfo.part', ref: m.intelInfo, role: 'intelInfo' });
  m.entries.forEach((e, i) => out.push({ field: `entries[${i}].part`, ref: e.part, role: 'entry' }));
  return out;
}

export function variantCount(m: LaunchManifest): number {
  let n = 1;
  for (const s of partSlots(m)) n *= s.ref.length;
  return n;
}

/** Every combination, as one chosen part name per slot (same order as partSlots), first slot varying slowest. */
export function combinations(m: LaunchManifest): string[][] {
  let out: string[][] = [[]];
  for (const s of partSlots(m)) out = out.flatMap((c) => s.ref.map((name) => [...c, name]));
  return out;
}
