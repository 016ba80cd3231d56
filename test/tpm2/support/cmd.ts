/**
 * Command builders for TPM 2.0 tests (TPM 2.0 Library Part 3 layouts; sessions Part 1 §18).
 * Everything is big-endian; commandSize is filled in unless a test overrides it.
 */
import { BeWriter } from '../../../src/bytes/index.js';

export const ST_NO_SESSIONS = 0x8001;
export const ST_SESSIONS = 0x8002;
export const RS_PW = 0x40000009;
export const RH_NULL = 0x40000007;
export const RH_OWNER = 0x40000001;
export const RH_PLATFORM = 0x4000000c;

/** One authorization session as bytes: handle, nonceCaller, sessionAttributes, hmac/password. */
export interface SessionSpec {
  handle?: number;
  nonce?: Uint8Array;
  attributes?: number;
  password?: Uint8Array;
}
/** The 9-byte empty-password TPM_RS_PW session (Part 1 §18), continueSession set. */
export const PW: SessionSpec = { handle: RS_PW, attributes: 0x01 };

export function sessionBytes(s: SessionSpec): Uint8Array {
  return new BeWriter()
    .u32(s.handle ?? RS_PW)
    .sized16(s.nonce ?? new Uint8Array(0))
    .u8(s.attributes ?? 0)
    .sized16(s.password ?? new Uint8Array(0))
    .finish();
}

export interface CmdSpec {
  tag?: number;
  cc: number;
  handles?: number[];
  /** Sessions (tag defaults to 0x8002 when present). */
  sessions?: SessionSpec[];
  /** Override authorizationSize. */
  authSize?: number;
  params?: Uint8Array;
  /** Override commandSize. */
  size?: number;
}

export function cmd(spec: CmdSpec): Uint8Array {
  const tag = spec.tag ?? (spec.sessions ? ST_SESSIONS : ST_NO_SESSIONS);
  const w = new BeWriter().u16(tag).u32(0).u32(spec.cc);
  for (const h of spec.handles ?? []) w.u32(h);
  if (spec.sessions) {
    const area = new BeWriter();
    for (const s of spec.sessions) area.bytes(sessionBytes(s));
    const bytes = area.finish();
    w.u32(spec.authSize ?? bytes.length).bytes(bytes);
  }
  if (spec.params) w.bytes(spec.params);
  w.patchU32(2, spec.size ?? w.length);
  return w.finish();
}

export function params(build: (w: BeWriter) => void): Uint8Array {
  const w = new BeWriter();
  build(w);
  return w.finish();
}

export interface Sel {
  hash: number;
  bits: number[] | Uint8Array;
  sizeofSelect?: number;
}
export function selectionList(sels: Sel[], count = sels.length): (w: BeWriter) => void {
  return (w) => {
    w.u32(count);
    for (const s of sels) {
      const n = s.sizeofSelect ?? 3;
      let bm: Uint8Array;
      if (s.bits instanceof Uint8Array) bm = s.bits;
      else {
        bm = new Uint8Array(Math.max(n, 3));
        for (const b of s.bits) bm[b >> 3] = (bm[b >> 3] ?? 0) | (1 << (b & 7));
      }
      w.u16(s.hash).u8(n).bytes(bm.subarray(0, n));
    }
  };
}

export const CC = {
  PCR_Allocate: 0x12b,
  PCR_Event: 0x13c,
  PCR_Reset: 0x13d,
  SequenceComplete: 0x13e,
  SelfTest: 0x143,
  Startup: 0x144,
  Shutdown: 0x145,
  SequenceUpdate: 0x15c,
  FlushContext: 0x165,
  GetCapability: 0x17a,
  GetRandom: 0x17b,
  GetTestResult: 0x17c,
  Hash: 0x17d,
  PCR_Read: 0x17e,
  PCR_Extend: 0x182,
  EventSequenceComplete: 0x185,
  HashSequenceStart: 0x186,
} as const;

export const startup = (type = 0): Uint8Array => cmd({ cc: CC.Startup, params: params((w) => w.u16(type)) });
export const shutdown = (type = 0): Uint8Array => cmd({ cc: CC.Shutdown, params: params((w) => w.u16(type)) });
export const pcrRead = (sels: Sel[]): Uint8Array => cmd({ cc: CC.PCR_Read, params: params(selectionList(sels)) });
export const getCap = (cap: number, prop: number, count: number): Uint8Array =>
  cmd({ cc: CC.GetCapability, params: params((w) => w.u32(cap).u32(prop).u32(count)) });
export function pcrExtend(pcr: number, digests: { alg: number; digest: Uint8Array }[], sessions: SessionSpec[] = [PW]): Uint8Array {
  return cmd({
    cc: CC.PCR_Extend,
    handles: [pcr],
    sessions,
    params: params((w) => {
      w.u32(digests.length);
      for (const d of digests) w.u16(d.alg).bytes(d.digest);
    }),
  });
}
export const pcrEvent = (pcr: number, data: Uint8Array, sessions: SessionSpec[] = [PW]): Uint8Array =>
  cmd({ cc: CC.PCR_Event, handles: [pcr], sessions, params: params((w) => w.sized16(data)) });
export const pcrReset = (pcr: number, sessions: SessionSpec[] = [PW]): Uint8Array => cmd({ cc: CC.PCR_Reset, handles: [pcr], sessions });
export const pcrAllocate = (sels: Sel[], sessions: SessionSpec[] = [PW]): Uint8Array =>
  cmd({ cc: CC.PCR_Allocate, handles: [RH_PLATFORM], sessions, params: params(selectionList(sels)) });
export const hashSequenceStart = (alg: number, auth: Uint8Array = new Uint8Array(0)): Uint8Array =>
  cmd({ cc: CC.HashSequenceStart, params: params((w) => w.sized16(auth).u16(alg)) });
export const sequenceUpdate = (h: number, data: Uint8Array, sessions: SessionSpec[] = [PW]): Uint8Array =>
  cmd({ cc: CC.SequenceUpdate, handles: [h], sessions, params: params((w) => w.sized16(data)) });
export const sequenceComplete = (h: number, data: Uint8Array, hierarchy = RH_NULL, sessions: SessionSpec[] = [PW]): Uint8Array =>
  cmd({ cc: CC.SequenceComplete, handles: [h], sessions, params: params((w) => w.sized16(data).u32(hierarchy)) });
export const eventSequenceComplete = (pcr: number, h: number, data: Uint8Array, sessions: SessionSpec[] = [PW, PW]): Uint8Array =>
  cmd({ cc: CC.EventSequenceComplete, handles: [pcr, h], sessions, params: params((w) => w.sized16(data)) });
export const flushContext = (h: number): Uint8Array => cmd({ cc: CC.FlushContext, params: params((w) => w.u32(h)) });
export const hash = (data: Uint8Array, alg: number, hierarchy = RH_NULL): Uint8Array =>
  cmd({ cc: CC.Hash, params: params((w) => w.sized16(data).u16(alg).u32(hierarchy)) });
export const getRandom = (n: number): Uint8Array => cmd({ cc: CC.GetRandom, params: params((w) => w.u16(n)) });
export const selfTest = (full = 1): Uint8Array => cmd({ cc: CC.SelfTest, params: params((w) => w.u8(full)) });
export const getTestResult = (): Uint8Array => cmd({ cc: CC.GetTestResult });
