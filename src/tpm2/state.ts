/**
 * The whole TPM 2.0 state: what libtpms keeps in gp (persistent), gr/gc (state reset / clear
 * data), and RAM (objects, PCR values), plus the DRTM globals (g_DRTMHandle, g_DrtmPreStartup)
 * and the tpmEstablished flag. Snapshots are plain JSON-able data (hex strings).
 */
import { randomBytesPooled } from '../bytes/random.js';
import { fromHex, toHex } from '../bytes/index.js';
import { algByName, HASH_ALGS, type BankName, type HashAlg } from '../hash/index.js';
import { LIMITS, SU_NONE_VALUE, TPM_SU } from './constants.js';
import { ObjectSlots, type SequenceObject } from './objects.js';
import { finalDigest } from '../hash/resumable.js';
import { PcrStore } from './pcr.js';
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

export function newState(banks: readonly BankName[]): Tpm2State {
  const suite = hashSuite(implementedAlgs(banks));
  const want = new Set(banks);
  const allocation = suite.algs.map((a) => (want.has(a.name) ? FULL() : EMPTY()));
  return {
    suite,
    pcrs: new PcrStore(suite, allocation),
    nvAllocation: allocation.map((b) => b.slice()),
    objects: new ObjectSlots(),
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
/** Version 2: sequences keep midstates (version 1 kept the data they were fed). */
export const TPM2_SNAPSHOT_VERSION = 2;
export interface Tpm2Snapshot {
  version: typeof TPM2_SNAPSHOT_VERSION;
  algs: BankName[];
  allocation: string[];
  nvAllocation: string[];
  pcrCounter: number;
  pcrValues: string[][];
  objects: (SeqSnap | null)[];
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

export function snapshotState(s: Tpm2State): Tpm2Snapshot {
  return {
    version: TPM2_SNAPSHOT_VERSION,
    algs: s.suite.algs.map((a) => a.name),
    allocation: s.pcrs.allocation.map(toHex),
    nvAllocation: s.nvAllocation.map(toHex),
    pcrCounter: s.pcrs.counter,
    pcrValues: s.pcrs.hexValues(),
    objects: s.objects.slots.map(seqSnap),
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

export function restoreState(v: unknown): Tpm2State {
  if (!isSnapshot(v)) throw new TypeError(`not a TPM 2.0 engine snapshot (version ${TPM2_SNAPSHOT_VERSION})`);
  const algs = v.algs.map((n) => {
    const a = algByName(n);
    if (!a) throw new TypeError(`snapshot names unknown hash ${n}`);
    return a;
  });
  const suite = hashSuite(algs);
  const pcrs = new PcrStore(suite, v.allocation.map(fromHex), v.pcrCounter, v.pcrValues.map((bank) => bank.map(fromHex)));
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
