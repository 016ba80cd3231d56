/**
 * The whole TPM 2.0 state: what libtpms keeps in gp (persistent), gr/gc (state reset / clear
 * data), and RAM (objects, PCR values), plus the DRTM globals (g_DRTMHandle, g_DrtmPreStartup)
 * and the tpmEstablished flag. Snapshots are plain JSON-able data (hex strings).
 */
import { randomBytesPooled } from '../bytes/random.js';
import { fromHex, toHex } from '../bytes/index.js';
import { algByName, HASH_ALGS, type BankName, type HashAlg } from '../hash/index.js';
import { LIMITS, SU_NONE_VALUE, TPM_RH, TPM_SU } from './constants.js';
import { ObjectSlots, type SequenceObject } from './objects.js';
import { finalDigest } from '../hash/resumable.js';
import { PcrStore } from './pcr.js';
import { MAX_ACTIVE_SESSIONS, MAX_LOADED_SESSIONS, NAME_BUFFER_SIZE, SessionStore, SYM_ALG, type AuthSessionState } from './sessions.js';
import { hashSuite, type HashSuite } from './structures.js';

/** What Shutdown(STATE) writes to NV (NV_STATE_CLEAR_DATA / NV_STATE_RESET_DATA). */
export interface SavedState {
  pcrSave: Uint8Array[][];
  pcrCounter: number;
}

export interface Tpm2State {
  suite: HashSuite;
  pcrs: PcrStore;
  /** gp.pcrAllocated as written to NV by TPM2_PCR_Allocate; becomes the RAM allocation at init. */
  nvAllocation: Uint8Array[];
  objects: ObjectSlots;
  /** Authorization sessions (s_sessions, gr.contextArray). */
  sessions: SessionStore;
  /** gp.lockOutAuthEnabled: cleared by an authorization failure of a session bound to TPM_RH_LOCKOUT. */
  lockoutAuthEnabled: boolean;
  /** g_exclusiveAuditSession: the exclusive audit session, or TPM_RH_UNASSIGNED. */
  exclusiveAuditSession: number;
  started: boolean;
  /** gp.orderlyState (persistent): SU_NONE_VALUE, or the last Shutdown type (+ libtpms flags). */
  orderlyState: number;
  /** g_prevOrderlyState: orderly state seen by the last Startup (TPMA_STARTUP_CLEAR.orderly). */
  prevOrderlyState: number;
  /** g_pcrReConfig: a PCR_Allocate succeeded since Startup (Shutdown(STATE) is then refused). */
  pcrReConfig: boolean;
  /** g_DRTMHandle: the DRTM event sequence between _TPM_Hash_Start and _TPM_Hash_End. */
  drtmHandle: number | null;
  /** g_DrtmPreStartup: an H-CRTM sequence ended before Startup. */
  drtmPreStartup: boolean;
  /** g_StartupLocality3 */
  startupLocality3: boolean;
  established: boolean;
  saved: SavedState | null;
  /** Hierarchy proof used to key hash-check tickets (TPM-internal secret, random per TPM). */
  proof: Uint8Array;
}

/** Hash algorithms libtpms 0.9.2 implements (HASH_COUNT = 4; SM3 is not built — libtpms `TpmProfile.h`). */
export const LIBTPMS_HASHES: readonly BankName[] = ['sha1', 'sha256', 'sha384', 'sha512'];

export function implementedAlgs(banks: readonly BankName[]): HashAlg[] {
  const names = new Set<BankName>([...LIBTPMS_HASHES, ...banks]);
  return HASH_ALGS.filter((a) => names.has(a.name));
}

const FULL = (): Uint8Array => Uint8Array.of(0xff, 0xff, 0xff);
const EMPTY = (): Uint8Array => new Uint8Array(LIMITS.PCR_SELECT_MAX);

/** Suites are immutable: one per set of implemented algorithms, shared by every TPM that has it. */
const suites = new Map<string, HashSuite>();
function suiteOf(algs: HashAlg[]): HashSuite {
  const key = algs.map((a) => a.name).join(',');
  let suite = suites.get(key);
  if (!suite) {
    suite = hashSuite(algs);
    suites.set(key, suite);
  }
  return suite;
}

export function newState(banks: readonly BankName[]): Tpm2State {
  const suite = suiteOf(implementedAlgs(banks));
  const want = new Set(banks);
  const allocation = suite.algs.map((a) => (want.has(a.name) ? FULL() : EMPTY()));
  return {
    suite,
    pcrs: new PcrStore(suite, allocation),
    nvAllocation: allocation.map((b) => b.slice()),
    objects: new ObjectSlots(),
    sessions: new SessionStore(),
    lockoutAuthEnabled: true,
    exclusiveAuditSession: TPM_RH.UNASSIGNED,
    started: false,
    // A freshly manufactured libtpms TPM is orderly (SU_CLEAR), so the first Startup reports orderly.
    orderlyState: TPM_SU.CLEAR,
    prevOrderlyState: SU_NONE_VALUE,
    pcrReConfig: false,
    drtmHandle: null,
    drtmPreStartup: false,
    startupLocality3: false,
    established: false,
    saved: null,
    proof: new Uint8Array(randomBytesPooled(64)),
  };
}

// ---- snapshot ----------------------------------------------------------------------------------

interface SeqSnap {
  kind: 'hash' | 'event';
  hashAlg: number;
  auth: string;
  /** Midstate per algorithm (hash-wasm save() bytes), hex. */
  states: Partial<Record<BankName, string>>;
  firstBlock: boolean;
  ticketSafe: boolean;
}
interface SessionSnap {
  type: AuthSessionState['type'];
  authHash: number;
  nonceTPM: string;
  sessionKey: string;
  symmetric: { algorithm: number; keyBits: number; mode: number };
  boundEntity: string | null;
  isDaBound: boolean;
  isLockoutBound: boolean;
  policyDigest: string;
  isAudit: boolean;
  auditDigest: string;
}
/**
 * Version 4: PCR values as one hex string per bank (version 3 had 24 strings per bank; the snapshot is
 * taken twice per transaction, and 96 strings cost a TPM2_PCR_Extend over HTTP ~10 % of its time).
 * Version 3: authorization sessions. Version 2: sequences keep midstates; version 1 kept the data
 * they were fed.
 */
export const TPM2_SNAPSHOT_VERSION = 4;
export interface Tpm2Snapshot {
  version: typeof TPM2_SNAPSHOT_VERSION;
  algs: BankName[];
  allocation: string[];
  nvAllocation: string[];
  pcrCounter: number;
  /** Per implemented algorithm (suite order), its 24 PCRs back to back, hex. */
  pcrValues: string[];
  objects: (SeqSnap | null)[];
  sessions: (SessionSnap | null)[];
  contextArray: number[];
  lockoutAuthEnabled: boolean;
  exclusiveAuditSession: number;
  started: boolean;
  orderlyState: number;
  prevOrderlyState: number;
  pcrReConfig: boolean;
  drtmHandle: number | null;
  drtmPreStartup: boolean;
  startupLocality3: boolean;
  established: boolean;
  saved: { pcrSave: string[][]; pcrCounter: number } | null;
  proof: string;
}

function seqSnap(s: SequenceObject | null): SeqSnap | null {
  if (!s) return null;
  const states: Partial<Record<BankName, string>> = {};
  for (const [bank, st] of s.states) states[bank] = toHex(st);
  return { kind: s.kind, hashAlg: s.hashAlg, auth: toHex(s.auth), states, firstBlock: s.firstBlock, ticketSafe: s.ticketSafe };
}

function sessionSnap(s: AuthSessionState | null): SessionSnap | null {
  if (!s) return null;
  return {
    type: s.type,
    authHash: s.authHash,
    nonceTPM: toHex(s.nonceTPM),
    sessionKey: toHex(s.sessionKey),
    symmetric: { ...s.symmetric },
    boundEntity: s.boundEntity ? toHex(s.boundEntity) : null,
    isDaBound: s.isDaBound,
    isLockoutBound: s.isLockoutBound,
    policyDigest: toHex(s.policyDigest),
    isAudit: s.isAudit,
    auditDigest: toHex(s.auditDigest),
  };
}

const SYM_ALGS: ReadonlySet<number> = new Set(Object.values(SYM_ALG));

/** A snapshot's session, checked as strictly as the rest: anything a live session could not hold is refused. */
function restoreSession(v: unknown, algs: readonly HashAlg[]): AuthSessionState | null {
  if (v === null) return null;
  const bad = (what: string): never => {
    throw new TypeError(`snapshot session: ${what}`);
  };
  if (typeof v !== 'object') bad('not an object');
  const o = v as Partial<Record<keyof SessionSnap, unknown>>;
  const type = o.type === 'hmac' || o.type === 'policy' || o.type === 'trial' ? o.type : bad('unknown type');
  const alg = algs.find((a) => a.algId === o.authHash) ?? bad('unknown authHash');
  const hex = (x: unknown, what: string): Uint8Array => (typeof x === 'string' ? fromHex(x) : bad(what));
  const nonceTPM = hex(o.nonceTPM, 'nonceTPM');
  if (nonceTPM.length < 16 || nonceTPM.length > alg.size) bad('nonceTPM size');
  const sessionKey = hex(o.sessionKey, 'sessionKey');
  if (sessionKey.length !== 0 && sessionKey.length !== alg.size) bad('sessionKey size');
  const policyDigest = hex(o.policyDigest, 'policyDigest');
  if (policyDigest.length !== (type === 'hmac' ? 0 : alg.size)) bad('policyDigest size');
  const boundEntity = o.boundEntity === null ? null : hex(o.boundEntity, 'boundEntity');
  if (boundEntity && boundEntity.length !== NAME_BUFFER_SIZE) bad('boundEntity size');
  const sym = (typeof o.symmetric === 'object' && o.symmetric !== null ? o.symmetric : bad('symmetric')) as { algorithm?: unknown; keyBits?: unknown; mode?: unknown };
  const symNum = (x: unknown): number => (typeof x === 'number' ? x : bad('symmetric'));
  const symmetric = { algorithm: symNum(sym.algorithm), keyBits: symNum(sym.keyBits), mode: symNum(sym.mode) };
  if (!SYM_ALGS.has(symmetric.algorithm)) bad('symmetric algorithm');
  if (typeof o.isDaBound !== 'boolean' || typeof o.isLockoutBound !== 'boolean' || typeof o.isAudit !== 'boolean') bad('flags');
  const auditDigest = hex(o.auditDigest, 'auditDigest');
  if (auditDigest.length !== (o.isAudit ? alg.size : 0)) bad('auditDigest size');
  return {
    type,
    authHash: alg.algId,
    nonceTPM,
    sessionKey,
    symmetric,
    boundEntity,
    isDaBound: o.isDaBound as boolean,
    isLockoutBound: o.isLockoutBound as boolean,
    policyDigest,
    isAudit: o.isAudit as boolean,
    auditDigest,
  };
}

function restoreSessions(v: Tpm2Snapshot, algs: readonly HashAlg[]): SessionStore {
  if (!Array.isArray(v.sessions) || v.sessions.length !== MAX_LOADED_SESSIONS) throw new TypeError('snapshot sessions malformed');
  if (!Array.isArray(v.contextArray) || v.contextArray.length !== MAX_ACTIVE_SESSIONS) throw new TypeError('snapshot contextArray malformed');
  const slots = v.sessions.map((s) => restoreSession(s, algs));
  const contextArray = v.contextArray.map((x) => {
    if (!Number.isInteger(x) || x < 0 || x > MAX_LOADED_SESSIONS) throw new TypeError('snapshot contextArray entry out of range');
    return x;
  });
  // Every loaded session has exactly one context entry and every entry names a loaded session.
  const used = contextArray.filter((x) => x !== 0).sort();
  const loaded = slots.flatMap((s, i) => (s ? [i + 1] : []));
  if (used.join() !== loaded.join()) throw new TypeError('snapshot contextArray does not match its sessions');
  return new SessionStore(slots, contextArray);
}

export function snapshotState(s: Tpm2State): Tpm2Snapshot {
  return {
    version: TPM2_SNAPSHOT_VERSION,
    algs: s.suite.algs.map((a) => a.name),
    allocation: s.pcrs.allocation.map(toHex),
    nvAllocation: s.nvAllocation.map(toHex),
    pcrCounter: s.pcrs.counter,
    pcrValues: s.pcrs.hexBanks(),
    objects: s.objects.slots.map(seqSnap),
    sessions: s.sessions.slots.map(sessionSnap),
    contextArray: [...s.sessions.contextArray],
    lockoutAuthEnabled: s.lockoutAuthEnabled,
    exclusiveAuditSession: s.exclusiveAuditSession,
    started: s.started,
    orderlyState: s.orderlyState,
    prevOrderlyState: s.prevOrderlyState,
    pcrReConfig: s.pcrReConfig,
    drtmHandle: s.drtmHandle,
    drtmPreStartup: s.drtmPreStartup,
    startupLocality3: s.startupLocality3,
    established: s.established,
    saved: s.saved ? { pcrSave: s.saved.pcrSave.map((b) => b.map(toHex)), pcrCounter: s.saved.pcrCounter } : null,
    proof: toHex(s.proof),
  };
}

function isSnapshot(v: unknown): v is Tpm2Snapshot {
  return typeof v === 'object' && v !== null && (v as { version?: unknown }).version === TPM2_SNAPSHOT_VERSION && Array.isArray((v as { algs?: unknown }).algs);
}

function restoreStates(states: unknown): Map<BankName, Uint8Array> {
  if (typeof states !== 'object' || states === null) throw new TypeError('snapshot sequence has no states');
  const out = new Map<BankName, Uint8Array>();
  for (const [name, hex] of Object.entries(states as Record<string, unknown>)) {
    const a = algByName(name);
    if (!a || typeof hex !== 'string') throw new TypeError(`snapshot sequence names unknown hash ${name}`);
    const state = fromHex(hex);
    try {
      finalDigest(a.name, state);
    } catch {
      throw new TypeError(`snapshot sequence holds a malformed ${name} state`);
    }
    out.set(a.name, state);
  }
  return out;
}

function restoreExclusive(v: unknown): number {
  if (v === TPM_RH.UNASSIGNED) return v;
  const ok = typeof v === 'number' && ((v >= LIMITS.HMAC_SESSION_FIRST && v <= LIMITS.HMAC_SESSION_LAST) || (v >= LIMITS.POLICY_SESSION_FIRST && v <= LIMITS.POLICY_SESSION_LAST));
  return ok ? v : fault('snapshot exclusiveAuditSession malformed');
}

function fault(message: string): never {
  throw new TypeError(message);
}

/**
 * Older snapshots (kept in a durable store, or exported by a client) read as version 4: version 2
 * (before authorization sessions) is version 3 without sessions; version 3 kept 24 hex strings per
 * bank where version 4 keeps them joined. A mix (version 2 naming sessions) is refused.
 */
function upgrade(v: unknown): unknown {
  if (typeof v !== 'object' || v === null) return v;
  let u = v as Record<string, unknown>;
  if (u.version === 2) {
    for (const k of ['sessions', 'contextArray', 'lockoutAuthEnabled', 'exclusiveAuditSession']) if (k in u) return v;
    u = {
      ...u,
      version: 3,
      sessions: new Array<null>(MAX_LOADED_SESSIONS).fill(null),
      contextArray: new Array<number>(MAX_ACTIVE_SESSIONS).fill(0),
      lockoutAuthEnabled: true,
      exclusiveAuditSession: TPM_RH.UNASSIGNED,
    };
  }
  if (u.version === 3) {
    const banks = u.pcrValues;
    if (!Array.isArray(banks) || !banks.every((b) => Array.isArray(b) && b.length === LIMITS.IMPLEMENTATION_PCR && b.every((x) => typeof x === 'string'))) return v;
    u = { ...u, version: TPM2_SNAPSHOT_VERSION, pcrValues: (banks as string[][]).map((b) => b.join('')) };
  }
  return u;
}

/** One bank's 24 PCRs from their joined hex (each `size` bytes); '' (an unallocated bank): zeros. */
function bankValues(hex: unknown, size: number, allocated: boolean): Uint8Array[] {
  if (hex === '' && !allocated) hex = '00'.repeat(LIMITS.IMPLEMENTATION_PCR * size);
  if (typeof hex !== 'string' || hex.length !== LIMITS.IMPLEMENTATION_PCR * size * 2) throw new TypeError('snapshot pcrValues malformed');
  const all = fromHex(hex);
  return Array.from({ length: LIMITS.IMPLEMENTATION_PCR }, (_, pcr) => all.subarray(pcr * size, (pcr + 1) * size));
}

export function restoreState(snapshot: unknown): Tpm2State {
  const v = upgrade(snapshot);
  if (!isSnapshot(v)) throw new TypeError(`not a TPM 2.0 engine snapshot (version ${TPM2_SNAPSHOT_VERSION})`);
  const algs = v.algs.map((n) => {
    const a = algByName(n);
    if (!a) throw new TypeError(`snapshot names unknown hash ${n}`);
    return a;
  });
  const suite = suiteOf(algs);
  if (!Array.isArray(v.pcrValues) || v.pcrValues.length !== algs.length) throw new TypeError('snapshot pcrValues malformed');
  const allocation = v.allocation.map(fromHex);
  const pcrs = new PcrStore(suite, allocation, v.pcrCounter, v.pcrValues.map((bank, i) => bankValues(bank, algs[i]?.size ?? 0, allocation[i]?.some((b) => b !== 0) ?? false)));
  const objects = new ObjectSlots(
    v.objects.map((o) =>
      o ? { kind: o.kind, hashAlg: o.hashAlg, auth: fromHex(o.auth), states: restoreStates(o.states), firstBlock: o.firstBlock, ticketSafe: o.ticketSafe } : null,
    ),
  );
  return {
    suite,
    pcrs,
    nvAllocation: v.nvAllocation.map(fromHex),
    objects,
    sessions: restoreSessions(v, algs),
    lockoutAuthEnabled: typeof v.lockoutAuthEnabled === 'boolean' ? v.lockoutAuthEnabled : fault('snapshot lockoutAuthEnabled malformed'),
    exclusiveAuditSession: restoreExclusive(v.exclusiveAuditSession),
    started: v.started,
    orderlyState: v.orderlyState,
    prevOrderlyState: v.prevOrderlyState,
    pcrReConfig: v.pcrReConfig,
    drtmHandle: v.drtmHandle,
    drtmPreStartup: v.drtmPreStartup,
    startupLocality3: v.startupLocality3,
    established: v.established,
    saved: v.saved ? { pcrSave: v.saved.pcrSave.map((b) => b.map(fromHex)), pcrCounter: v.saved.pcrCounter } : null,
    proof: fromHex(v.proof),
  };
}
