/**
 * The exported session snapshot (GET /v1/sessions/{id}/snapshot, POST /v1/sessions {"from": …}):
 * a versioned JSON document with the session's state and a SHA-256 digest of its canonical JSON.
 * The digest catches damage and edits that do not recompute it; it is not a signature (anyone can
 * recompute it), so the import also checks every part fully — options against the creation rules,
 * TPM, TIS and log through their own restore code — before anything is created: a snapshot is
 * restored whole or not at all.
 */
import { createHash } from 'node:crypto';
import { DomainError } from '../errors.js';
import { resolveSessionOptions, type SessionLimits, type SessionRequest } from './options.js';
import { Session, type SessionHead, type SessionOptions } from './session.js';
import type { SessionStart } from './manager.js';

export const SNAPSHOT_FORMAT = 'tpm-measure/session-snapshot';
export const SNAPSHOT_VERSION = 1;

export interface SessionSnapshotDoc {
  format: typeof SNAPSHOT_FORMAT;
  version: typeof SNAPSHOT_VERSION;
  takenAt: string;
  session: SessionHead;
  digest: string;
}

/** JSON with object keys sorted at every level and no whitespace (RFC 8785-like; our data has no floats). */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
    .join(',')}}`;
}

function digestOf(session: unknown): string {
  return 'sha256:' + createHash('sha256').update(canonicalJson(session)).digest('hex');
}

/** The snapshot document of a session (call inside its turn). */
export function exportSnapshot(s: Session, now: number): SessionSnapshotDoc {
  const head = s.head();
  const session: SessionHead = { ...head, log: { ...head.log, events: s.logEvents(0) } as SessionHead['log'] };
  return { format: SNAPSHOT_FORMAT, version: SNAPSHOT_VERSION, takenAt: new Date(now).toISOString(), session, digest: digestOf(session) };
}

function invalid(detail: string): DomainError {
  return new DomainError('snapshot-invalid', detail);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/**
 * Check a snapshot document fully and return what a new session starts from; a 422
 * `snapshot-invalid` names the first problem. Nothing is created here.
 */
export function importSnapshot(doc: unknown, limits: SessionLimits): { options: SessionOptions; start: SessionStart } {
  if (!isObject(doc)) throw invalid('the snapshot must be a JSON object');
  if (doc.format !== SNAPSHOT_FORMAT) throw invalid(`not a session snapshot: format must be ${JSON.stringify(SNAPSHOT_FORMAT)}`);
  if (doc.version !== SNAPSHOT_VERSION) throw invalid(`snapshot version ${JSON.stringify(doc.version)} is not the version this service reads (${SNAPSHOT_VERSION})`);
  const session = doc.session;
  if (!isObject(session)) throw invalid('the snapshot has no session object');
  if (typeof doc.digest !== 'string' || doc.digest !== digestOf(session)) throw invalid('the snapshot digest does not match its session: it was damaged or altered');
  const { options, engine, tis, log, logFull, measurements, extendsOutsideLog } = session;
  if (!isObject(options) || !isObject(engine) || !isObject(tis) || !isObject(log)) throw invalid('session.options, engine, tis and log must be objects');
  if (typeof logFull !== 'boolean' || !isCount(measurements) || !isCount(extendsOutsideLog)) throw invalid('session.logFull must be a boolean and measurements, extendsOutsideLog counts');
  // The options must be what the creation rules give for themselves (no option outside the limits).
  let resolved: SessionOptions;
  try {
    resolved = resolveSessionOptions(options as SessionRequest, limits);
  } catch (e) {
    throw invalid(`session.options: ${(e as Error).message}`);
  }
  const known = new Set(['family', 'startup', 'logSize', 'compat', 'banks', 'tisProfile', 'tis']);
  if (Object.keys(options).some((k) => !known.has(k)) || canonicalJson(resolved) !== canonicalJson(options)) {
    throw invalid('session.options are not a complete, valid set of session options');
  }
  const expectedLog = resolved.family === '1.2' ? 'txt-container' : 'tcg2';
  if (log.kind !== expectedLog || log.size !== resolved.logSize) throw invalid(`session.log must be a ${expectedLog} log of logSize bytes`);
  // Build the whole session from the parts (each part's restore checks its own data); only a
  // session built without error is used, then re-read through our own code.
  let built: Session;
  try {
    built = Session.restore({ version: 1, id: 'snapshot', options: resolved, createdAt: 0, lastUsedAt: 0, owner: null, engine, tis, log: log as unknown as SessionHead['log'], logFull, measurements, extendsOutsideLog });
  } catch (e) {
    throw invalid(`the snapshot's state cannot be restored: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (built.engine.family !== resolved.family) throw invalid('session.engine is not a TPM of the snapshot family');
  const engineBanks = [...built.engine.banks()].sort().join(',');
  if (resolved.family === '2.0' && engineBanks !== [...resolved.banks].sort().join(',')) {
    throw invalid(`session.engine allocates ${engineBanks}, session.options.banks say ${resolved.banks.join(',')}`);
  }
  return { options: resolved, start: { head: built.head(), events: built.logEvents(0) } };
}
