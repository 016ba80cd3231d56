/**
 * Measuring one blob into a session: hash it (host path) or have the TPM hash it through the FIFO
 * (tpm path), extend, and keep the event log exactly as the seed would — or, in `strict` mode, as
 * a careful implementation would. No HTTP here: the caller streams chunks in and gets a result.
 *
 * Seed rules reproduced in `xen` mode:
 * - TPM 1.2: the log entry is written before the extend, an entry that does not fit is skipped but
 *   the data is still extended, and later smaller entries are still logged (the "gap",
 *   docs/tpm-quirks.md#log-gap); a refused extend is still logged (#logged-but-not-extended); on the
 *   early (TPM-hashing) path an error leaves 20 × 0xFF in the entry's digest (#fifo-over-read).
 * - TPM 2.0: banks other than SHA1/SHA256 get the OneDigest placeholder on the host path
 *   (#onedigest-placeholder); when the entry does not fit, PCR_Extend is sent with zero digests, so
 *   nothing is extended (#tpm2-log-full); on the TPM path the digests are copied into the entry only
 *   up to the first algorithm the log header does not list (#event-sequence-digests).
 * Sources: Xen slaunch patches 11/21 (TPM 1.2), 12/21 and v3 11/22, 13/22 (TPM 2.0), x86/tpm.c.
 */
import { toHex } from '../bytes/index.js';
import { mustAlg, type BankName } from '../hash/index.js';
import { ParallelHasher } from '../hash/parallel.js';
import { oneDigest } from '../eventlog/tcg2.js';
import type { TxtContainerLog } from '../eventlog/txt-container.js';
import type { Tcg2Log } from '../eventlog/tcg2.js';
import type { Locality } from '../tpm/engine.js';
import { rcName } from '../tpm/rc-name.js';
import type { Session } from '../sessions/session.js';
import { DomainError } from '../errors.js';
import { tpm12Commands, tpm2Commands } from '../drivers/index.js';

/** Return code of a TPM response (same header position in both families). */
const responseCode = tpm12Commands.responseCode;
import { openTpmHashStream, type TpmHashOutcome, type TpmHashStream } from './tpm-hashing.js';

export type Hashing = 'host' | 'tpm';

export interface MeasureRequest {
  pcr: number;
  locality: Locality;
  eventType: number;
  eventData: Uint8Array;
  hashing: Hashing;
}

export interface MeasureResult {
  pcr: number;
  locality: number;
  eventType: number;
  hashing: Hashing;
  size: number;
  /** Digest written to the log entry, per bank (what the seed would have logged). */
  digests: Record<string, string>;
  /** Real hash of the data, per bank. */
  dataDigests: Record<string, string>;
  pcrValue: Record<string, string>;
  logged: boolean;
  extended: boolean;
  eventIndex?: number;
  eventOffset?: number;
  logFull?: boolean;
  tpmReturnCode: number;
  tpmReturnCodeName: string;
  notes: string[];
}

/** A measurement in progress: feed chunks, then finish once the whole blob arrived. */
export interface MeasurementSink {
  /** Feed the next chunk; resolves when the hashers can take more (backpressure). */
  update(chunk: Uint8Array): Promise<void>;
  /** Apply the measurement once the whole blob arrived. */
  finish(): Promise<MeasureResult>;
  /** Give up (aborted or refused upload); the caller rolls the session back. */
  abort(): void;
  readonly bytes: number;
}

const SOFTWARE_BANKS_XEN: readonly BankName[] = ['sha1', 'sha256'];
const FF20 = new Uint8Array(20).fill(0xff);

function hexRecord(m: Map<BankName, Uint8Array>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of m) out[k] = toHex(v);
  return out;
}

/** The values of one PCR in every allocated bank, hex. */
export function pcrValues(session: Session, pcr: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [bank, values] of Object.entries(session.engine.pcrs())) {
    const v = values?.[pcr];
    if (v) out[bank] = toHex(v);
  }
  return out;
}

function refused(session: Session, rc: number, what: string): DomainError {
  return new DomainError('tpm-refused', `${what}: the TPM answered ${rcName(session.family, rc)} (0x${rc.toString(16).padStart(8, '0')}); nothing was changed`, {
    tpmReturnCode: rc,
    tpmReturnCodeName: rcName(session.family, rc),
  });
}

/** The banks whose data digests a measurement on this session needs (what the TPM allocates now). */
export function measurementBanks(session: Session): BankName[] {
  return session.family === '1.2' ? ['sha1'] : session.engine.banks();
}

/**
 * Apply a measurement whose data was already hashed: extend and log under the session's compat
 * rules. `dataDigests` must cover `measurementBanks(session)`; `tpm` is the outcome of the TPM's
 * own hash (hashing=tpm). Call it inside the session's transaction.
 */
export function applyMeasurement(session: Session, req: MeasureRequest, dataDigests: Map<BankName, Uint8Array>, size: number, tpm?: TpmHashOutcome): MeasureResult {
  const missing = measurementBanks(session).filter((b) => !dataDigests.has(b));
  if (missing.length > 0) {
    throw new DomainError('session-changed', `the TPM's PCR allocation changed while the data arrived (no digest for ${missing.join(', ')}); nothing was changed, send it again`);
  }
  const base = { pcr: req.pcr, locality: req.locality, eventType: req.eventType, hashing: req.hashing, size, dataDigests: hexRecord(dataDigests) };
  const result = session.family === '1.2' ? finish12(session, req, dataDigests, tpm) : finish20(session, req, dataDigests, tpm);
  session.measurements++;
  return { ...base, ...result, pcrValue: pcrValues(session, req.pcr) };
}

export function startMeasurement(session: Session, req: MeasureRequest): MeasurementSink {
  // The real data hash is always computed (reported as dataDigests, used by the host path).
  const hasher = new ParallelHasher(measurementBanks(session));
  const tpmStream: TpmHashStream | undefined = req.hashing === 'tpm' ? openTpmHashStream(session, req.locality, req.pcr) : undefined;
  let finished = false;
  return {
    get bytes() {
      return hasher.bytes;
    },
    async update(chunk: Uint8Array) {
      tpmStream?.update(chunk);
      await hasher.update(chunk);
    },
    abort() {
      finished = true;
      hasher.abort();
    },
    async finish(): Promise<MeasureResult> {
      if (finished) throw new Error('measurement already finished');
      finished = true;
      const dataDigests = await hasher.digests();
      return applyMeasurement(session, req, dataDigests, hasher.bytes, tpmStream?.finish());
    },
  };
}

/**
 * The host path (`hashing: 'host'`) for data hashed beforehand: `dataDigests` must hold the hash of
 * the data in every bank the session has (SHA-1 for TPM 1.2). Exactly what a sink fed that data
 * would do — same log and extend rules — so a blob hashed once can be measured several times.
 */
export function measureDigests(session: Session, req: MeasureRequest, size: number, dataDigests: ReadonlyMap<BankName, Uint8Array>): MeasureResult {
  if (req.hashing !== 'host') throw new RangeError('measureDigests is the host path');
  const own = new Map<BankName, Uint8Array>();
  for (const b of measurementBanks(session)) {
    const d = dataDigests.get(b);
    if (!d || d.length !== mustAlg(b).size) throw new RangeError(`measureDigests needs the ${b} digest of the data`);
    own.set(b, d);
  }
  return applyMeasurement(session, req, own, size);
}

type Partial12 = Omit<MeasureResult, 'pcr' | 'locality' | 'eventType' | 'hashing' | 'size' | 'dataDigests' | 'pcrValue'>;

/** Log an entry unless strict mode has stopped logging; in strict mode the first miss stops it. */
function appendOrMiss<T>(session: Session, append: () => T | null, notes: string[]): T | null {
  if (session.options.compat === 'strict' && session.logFull) {
    notes.push('the log is full: strict mode logs nothing after the first event that did not fit');
    return null;
  }
  const r = append();
  if (r === null) {
    if (session.options.compat === 'strict') {
      session.logFull = true;
      notes.push('the event did not fit: strict mode stops logging from here on');
    } else {
      notes.push('the event did not fit the log and was skipped (the seed keeps logging later events that fit: see docs/tpm-quirks.md#log-gap)');
    }
  }
  return r;
}

function finish12(session: Session, req: MeasureRequest, data: Map<BankName, Uint8Array>, tpm: TpmHashOutcome | undefined): Partial12 {
  const log = session.log as TxtContainerLog;
  const notes: string[] = [];
  const strict = session.options.compat === 'strict';
  let rc: number;
  let logDigest: Uint8Array;
  if (tpm) {
    rc = tpm.rc;
    // Early path: Xen copies hashValue from the response; after an error the over-read gives 0xFF
    // (docs/tpm-quirks.md#fifo-over-read).
    logDigest = rc === 0 && tpm.hashValue ? tpm.hashValue : FF20;
  } else {
    logDigest = data.get('sha1') as Uint8Array;
    rc = responseCode(session.engine.execute(tpm12Commands.extend12(req.pcr, logDigest), req.locality));
  }
  if (rc !== 0 && strict) throw refused(session, rc, `extending PCR ${req.pcr} at locality ${req.locality}`);
  if (rc !== 0) notes.push('the TPM refused the extend; the seed logs the event anyway (see docs/tpm-quirks.md#logged-but-not-extended)');
  const entry = appendOrMiss(session, () => log.append({ pcr: req.pcr, type: req.eventType, digest: logDigest, data: req.eventData }), notes);
  return {
    digests: { sha1: toHex(logDigest) },
    logged: entry !== null,
    extended: rc === 0,
    ...(entry ? { eventIndex: entry.index, eventOffset: entry.offset } : {}),
    ...(strict ? { logFull: session.logFull } : {}),
    tpmReturnCode: rc,
    tpmReturnCodeName: rcName('1.2', rc),
    notes,
  };
}

function finish20(session: Session, req: MeasureRequest, data: Map<BankName, Uint8Array>, tpm: TpmHashOutcome | undefined): Partial12 {
  const log = session.log as Tcg2Log;
  const notes: string[] = [];
  const strict = session.options.compat === 'strict';
  const logBanks = log.banks.map((b) => b.algorithmId);
  const banks = session.engine.banks();
  const entryDigests = new Map<BankName, Uint8Array>();
  let rc: number;
  if (tpm) {
    rc = tpm.rc;
    if (rc !== 0 && strict) throw refused(session, rc, `EventSequenceComplete on PCR ${req.pcr} at locality ${req.locality}`);
    // Copy the TPM's digests into the entry for header algorithms; Xen stops at the first algorithm
    // the header does not list (docs/tpm-quirks.md#event-sequence-digests). Everything not copied keeps the OneDigest placeholder.
    for (const b of banks) entryDigests.set(b, oneDigest(mustAlg(b).size));
    for (const d of tpm.digests ?? []) {
      const bank = banks.find((b) => mustAlg(b).algId === d.algId);
      const listed = logBanks.includes(d.algId);
      if (!listed) {
        if (!strict) break;
        continue;
      }
      if (bank) entryDigests.set(bank, d.digest);
    }
    if (strict) for (const b of banks) if (!tpm.digests?.some((d) => d.algId === mustAlg(b).algId)) entryDigests.set(b, data.get(b) as Uint8Array);
    if (rc !== 0) notes.push('the TPM refused EventSequenceComplete; Xen aborts its early path with that code');
    const entry = rc === 0 || !strict ? appendOrMiss(session, () => log.append({ pcr: req.pcr, type: req.eventType, digests: Object.fromEntries(entryDigests), data: req.eventData }), notes) : null;
    return result20(session, entryDigests, entry, rc, rc === 0, notes);
  }
  // Host path: software digests for SHA1/SHA256, OneDigest for every other bank in xen mode.
  for (const b of banks) {
    const soft = strict || SOFTWARE_BANKS_XEN.includes(b);
    entryDigests.set(b, soft ? (data.get(b) as Uint8Array) : oneDigest(mustAlg(b).size));
    if (!soft) notes.push(`${b}: Xen extends and logs the OneDigest placeholder for banks it does not hash (see docs/tpm-quirks.md#onedigest-placeholder)`);
  }
  const fits = !(strict && session.logFull) && log.fits(req.eventData.length);
  // xen: an entry that does not fit means PCR_Extend with zero digests — nothing is extended
  // (docs/tpm-quirks.md#tpm2-log-full).
  const sendDigests = !strict && !fits ? [] : banks.map((b) => ({ bank: b, digest: entryDigests.get(b) as Uint8Array }));
  if (!strict && !fits) notes.push('the event did not fit the log: Xen sends PCR_Extend with zero digests, so nothing is extended (see docs/tpm-quirks.md#tpm2-log-full)');
  rc = responseCode(session.engine.execute(tpm2Commands.pcrExtend(req.pcr, sendDigests), req.locality));
  if (rc !== 0 && strict) throw refused(session, rc, `PCR_Extend of PCR ${req.pcr} at locality ${req.locality}`);
  if (rc !== 0) notes.push('the TPM refused the extend; the event is logged anyway');
  const entry = appendOrMiss(session, () => log.append({ pcr: req.pcr, type: req.eventType, digests: Object.fromEntries(entryDigests), data: req.eventData }), notes);
  return result20(session, entryDigests, entry, rc, rc === 0 && sendDigests.length > 0, notes);
}

function result20(
  session: Session,
  entryDigests: Map<BankName, Uint8Array>,
  entry: { index: number; offset: number } | null,
  rc: number,
  extended: boolean,
  notes: string[],
): Partial12 {
  return {
    digests: hexRecord(entryDigests),
    logged: entry !== null,
    extended,
    ...(entry ? { eventIndex: entry.index, eventOffset: entry.offset } : {}),
    ...(session.options.compat === 'strict' ? { logFull: session.logFull } : {}),
    tpmReturnCode: rc,
    tpmReturnCodeName: rcName('2.0', rc),
    notes,
  };
}
