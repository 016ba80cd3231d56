/**
 * The TPM 2.0 commands the drivers send (TPM 2.0 Part 3; authorization area Part 1 §18) and the
 * TPML_DIGEST_VALUES decoder for EventSequenceComplete. Big-endian throughout.
 */
import { BeWriter, u16be, u32be } from '../bytes/index.js';
import { algById, algByName, TPM_ALG, type BankName } from '../hash/index.js';
import { LIMITS, TPM_CC, TPM_RS_PW, TPM_ST } from '../tpm2/constants.js';

/** TPM2B_MAX_BUFFER limit (MAX_DIGEST_BUFFER, libtpms `TpmProfile.h`). */
export const TPM2_MAX_DIGEST_BUFFER = LIMITS.MAX_DIGEST_BUFFER;
/** One empty-password session: handle u32, nonce TPM2B(0), attributes u8, hmac TPM2B(0) (ms-tpm-20-ref `SessionProcess.c`). */
export const PW_SESSION_SIZE = 9;

function cmd2(tag: number, cc: number, body: (w: BeWriter) => void): Uint8Array {
  const w = new BeWriter().u16(tag).u32(0).u32(cc);
  body(w);
  return w.patchU32(2, w.length).finish();
}

function pwSessions(w: BeWriter, n: number): void {
  w.u32(PW_SESSION_SIZE * n);
  for (let i = 0; i < n; i++) w.u32(TPM_RS_PW).u16(0).u8(0).u16(0);
}

/** TPM2_HashSequenceStart(auth = empty, hashAlg = TPM_ALG_NULL): an event sequence. */
export function hashSequenceStartEvent(): Uint8Array {
  return cmd2(TPM_ST.NO_SESSIONS, TPM_CC.HashSequenceStart, (w) => w.sized16(new Uint8Array(0)).u16(TPM_ALG.NULL));
}
/** TPM2_SequenceUpdate(sequenceHandle, one PW session, buffer ≤ 1024). */
export function sequenceUpdate(seq: number, data: Uint8Array): Uint8Array {
  return cmd2(TPM_ST.SESSIONS, TPM_CC.SequenceUpdate, (w) => {
    w.u32(seq);
    pwSessions(w, 1);
    w.sized16(data);
  });
}
/** TPM2_EventSequenceComplete(pcrHandle, sequenceHandle, two PW sessions, buffer). */
export function eventSequenceComplete(pcr: number, seq: number, data: Uint8Array): Uint8Array {
  return cmd2(TPM_ST.SESSIONS, TPM_CC.EventSequenceComplete, (w) => {
    w.u32(pcr).u32(seq);
    pwSessions(w, 2);
    w.sized16(data);
  });
}
/** TPM2_FlushContext(flushHandle). */
export function flushContext(handle: number): Uint8Array {
  return cmd2(TPM_ST.NO_SESSIONS, TPM_CC.FlushContext, (w) => w.u32(handle));
}

/** TPM2_PCR_Extend(pcrHandle, one PW session, TPML_DIGEST_VALUES): the 64-bit path of the Xen series (v1 12/21, v3 11/22). */
export function pcrExtend(pcr: number, digests: readonly { bank: BankName; digest: Uint8Array }[]): Uint8Array {
  return cmd2(TPM_ST.SESSIONS, TPM_CC.PCR_Extend, (w) => {
    w.u32(pcr);
    pwSessions(w, 1);
    w.u32(digests.length);
    for (const d of digests) {
      const alg = algByName(d.bank);
      if (!alg) throw new RangeError(`unknown bank ${d.bank}`);
      w.u16(alg.algId).bytes(d.digest);
    }
  });
}

export interface AlgDigest {
  readonly algId: number;
  /** Our bank name for the algorithm, when we know it. */
  readonly bank: BankName | null;
  readonly digest: Uint8Array;
}

/**
 * EventSequenceComplete response (tag 8002): paramSize u32, TPML_DIGEST_VALUES. Parsing stops at
 * the first algorithm whose digest size is unknown (as Xen does, docs/tpm-quirks.md#event-sequence-digests).
 */
export function decodeEventSequenceComplete(rsp: Uint8Array): AlgDigest[] {
  const out: AlgDigest[] = [];
  if (rsp.length < 18) return out;
  const end = Math.min(rsp.length, 14 + 4 + u32be(rsp, 10));
  const count = u32be(rsp, 14);
  let off = 18;
  for (let i = 0; i < count && off + 2 <= end; i++) {
    const algId = u16be(rsp, off);
    const alg = algById(algId);
    if (!alg || off + 2 + alg.size > end) break;
    out.push({ algId, bank: alg.name, digest: rsp.slice(off + 2, off + 2 + alg.size) });
    off += 2 + alg.size;
  }
  return out;
}
