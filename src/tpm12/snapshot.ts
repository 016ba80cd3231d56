/**
 * Plain-JSON form of the TPM 1.2 engine state (for durable session stores): hex strings for all
 * byte values, SHA-1 midstates for open hash contexts. restore validates before trusting.
 */
import { fromHex, toHex } from '../bytes/index.js';
import { TPM_DIGEST_SIZE, TPM_NUM_PCR, TPM_TEST_STATE, type TpmTestState } from './constants.js';
import { Sha1Stream, type Sha1StreamSnapshot } from './sha1-stream.js';
import { Pcrs12, type PhysicalPresenceFlags, type SavedState, type StclearFlags, type Tpm12State } from './state.js';

export const TPM12_SNAPSHOT_VERSION = 1;

export interface Tpm12Snapshot {
  readonly version: typeof TPM12_SNAPSHOT_VERSION;
  readonly family: '1.2';
  readonly permanent: {
    readonly tpmEstablished: boolean;
    readonly pp: Readonly<PhysicalPresenceFlags>;
    readonly savedState: { readonly pcrs: string[]; readonly stclear: Readonly<StclearFlags> } | null;
  };
  readonly volatile: {
    readonly postInitialise: boolean;
    readonly testState: TpmTestState;
    readonly pcrs: string[];
    readonly stclear: Readonly<StclearFlags>;
    readonly tosPresent: boolean;
    readonly stateSaved: boolean;
    readonly sha1Thread: Sha1StreamSnapshot | null;
    readonly tisHash: Sha1StreamSnapshot | null;
  };
}

export function snapshotState(s: Tpm12State): Tpm12Snapshot {
  return {
    version: TPM12_SNAPSHOT_VERSION,
    family: '1.2',
    permanent: {
      tpmEstablished: s.tpmEstablished,
      pp: { ...s.pp },
      savedState: s.savedState ? { pcrs: s.savedState.pcrs.map(toHex), stclear: { ...s.savedState.stclear } } : null,
    },
    volatile: {
      postInitialise: s.postInitialise,
      testState: s.testState,
      pcrs: s.pcrs.hex(),
      stclear: { ...s.stclear },
      tosPresent: s.tosPresent,
      stateSaved: s.stateSaved,
      sha1Thread: s.sha1Thread?.snapshot() ?? null,
      tisHash: s.tisHash?.snapshot() ?? null,
    },
  };
}

function bad(what: string): never {
  throw new TypeError(`invalid TPM 1.2 snapshot: ${what}`);
}
function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
function bool(v: unknown, what: string): boolean {
  if (typeof v !== 'boolean') bad(what);
  return v;
}
function digests(v: unknown, count: number, what: string): Uint8Array[] {
  if (!Array.isArray(v) || v.length !== count) bad(what);
  return v.map((h: unknown) => {
    if (typeof h !== 'string' || !/^[0-9a-f]*$/i.test(h)) bad(what);
    const d = fromHex(h);
    if (d.length !== TPM_DIGEST_SIZE) bad(what);
    return d;
  });
}
function stream(v: unknown, what: string): Sha1Stream | null {
  if (v === null) return null;
  if (!isRecord(v) || typeof v.h !== 'string' || typeof v.pending !== 'string' || typeof v.length !== 'number') bad(what);
  try {
    return Sha1Stream.restore({ h: v.h, pending: v.pending, length: v.length });
  } catch {
    return bad(what);
  }
}
const TEST_STATES: readonly number[] = Object.values(TPM_TEST_STATE);
function testState(v: unknown): TpmTestState {
  if (typeof v !== 'number' || !TEST_STATES.includes(v)) bad('testState');
  return v as TpmTestState;
}
const SAVED_PCRS = 16;

function stclearFlags(v: unknown, what: string): StclearFlags {
  if (!isRecord(v)) bad(what);
  return {
    deactivated: bool(v.deactivated, `${what}.deactivated`),
    physicalPresence: bool(v.physicalPresence, `${what}.physicalPresence`),
    physicalPresenceLock: bool(v.physicalPresenceLock, `${what}.physicalPresenceLock`),
  };
}
function ppFlags(v: unknown): PhysicalPresenceFlags {
  if (!isRecord(v)) bad('pp');
  return {
    physicalPresenceLifetimeLock: bool(v.physicalPresenceLifetimeLock, 'pp.physicalPresenceLifetimeLock'),
    physicalPresenceHWEnable: bool(v.physicalPresenceHWEnable, 'pp.physicalPresenceHWEnable'),
    physicalPresenceCMDEnable: bool(v.physicalPresenceCMDEnable, 'pp.physicalPresenceCMDEnable'),
  };
}

export function restoreState(snap: unknown): Tpm12State {
  if (!isRecord(snap) || snap.version !== TPM12_SNAPSHOT_VERSION || snap.family !== '1.2') bad('version/family');
  const p = snap.permanent;
  const v = snap.volatile;
  if (!isRecord(p) || !isRecord(v)) bad('sections');
  let savedState: SavedState | null = null;
  if (p.savedState !== null) {
    if (!isRecord(p.savedState)) bad('savedState');
    savedState = {
      pcrs: digests(p.savedState.pcrs, SAVED_PCRS, 'savedState.pcrs'),
      stclear: stclearFlags(p.savedState.stclear, 'savedState.stclear'),
    };
  }
  return {
    tpmEstablished: bool(p.tpmEstablished, 'tpmEstablished'),
    pp: ppFlags(p.pp),
    savedState,
    postInitialise: bool(v.postInitialise, 'postInitialise'),
    testState: testState(v.testState),
    pcrs: new Pcrs12(digests(v.pcrs, TPM_NUM_PCR, 'pcrs')),
    stclear: stclearFlags(v.stclear, 'stclear'),
    tosPresent: bool(v.tosPresent, 'tosPresent'),
    stateSaved: bool(v.stateSaved, 'stateSaved'),
    sha1Thread: stream(v.sha1Thread, 'sha1Thread'),
    tisHash: stream(v.tisHash, 'tisHash'),
  };
}
