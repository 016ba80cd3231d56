/**
 * Hash/event sequence commands (TPM 2.0 Library Part 3 §17), following
 * libtpms 0.9.2 `HashCommands.c`: TPM2_HashSequenceStart, TPM2_SequenceUpdate,
 * TPM2_SequenceComplete, TPM2_EventSequenceComplete.
 */
import { TPM_ALG } from '../../hash/index.js';
import type { CommandDef } from '../command.js';
import { TPM_CC, TPM_RH, TPM_ST } from '../constants.js';
import { fault } from '../marshal.js';
import { newSequence, sequenceDigest, sequenceUpdate, type SequenceObject } from '../objects.js';
import { RC_1, RC_H, TPM_RC } from '../rc.js';
import { decodeAlgHash, decodeRhHierarchy, decodeTpm2bDigest, decodeTpm2bMaxBuffer, encodeDigestValues } from '../structures.js';
import { hashCheckTicket, ticketIsSafe } from './ticket.js';
import { checkExtend } from './pcr.js';

function sequenceAt(handle: number, get: (h: number) => SequenceObject | undefined): SequenceObject {
  const s = get(handle);
  if (!s) throw new Error(`engine bug: handle 0x${handle.toString(16)} passed the load check but is empty`);
  return s;
}

/** Part 3 §17.3: TPM_ALG_NULL starts an event sequence; no free slot → TPM_RC_OBJECT_MEMORY. */
export const HashSequenceStart: CommandDef = {
  cc: TPM_CC.HashSequenceStart,
  name: 'TPM2_HashSequenceStart',
  handles: [],
  authHandles: 0,
  tpmaCc: 0x10000186,
  decryptSize: 2,
  prepare(p, state) {
    const auth = p.next(decodeTpm2bDigest);
    const hashAlg = p.next((r) => decodeAlgHash(r, state.suite, true));
    return (ctx) => {
      const kind = hashAlg === TPM_ALG.NULL ? 'event' : 'hash';
      const algs = kind === 'event' ? ctx.state.suite.algs : ctx.state.suite.algs.filter((a) => a.algId === hashAlg);
      const handle = ctx.state.objects.allocate(newSequence(kind, hashAlg, auth, algs.map((a) => a.name)));
      if (handle === undefined) fault(TPM_RC.OBJECT_MEMORY);
      return { handle };
    };
  },
};

/** Part 3 §17.4: append up to MAX_DIGEST_BUFFER bytes. */
export const SequenceUpdate: CommandDef = {
  cc: TPM_CC.SequenceUpdate,
  name: 'TPM2_SequenceUpdate',
  handles: ['TPMI_DH_OBJECT'],
  authHandles: 1,
  tpmaCc: 0x0200015c,
  decryptSize: 2,
  prepare(p) {
    const buffer = p.next(decodeTpm2bMaxBuffer);
    return (ctx, [handle = 0]) => {
      const seq = sequenceAt(handle, (h) => ctx.state.objects.get(h));
      if (seq.kind === 'hash' && !seq.firstBlock) {
        seq.firstBlock = true;
        if (ticketIsSafe(buffer)) seq.ticketSafe = true;
      }
      sequenceUpdate(seq, buffer);
      return {};
    };
  },
};

/**
 * Part 3 §17.5: finish a hash sequence → digest + TPMT_TK_HASHCHECK; an event sequence here is
 * TPM_RC_MODE on handle 1. The object is flushed on success.
 */
export const SequenceComplete: CommandDef = {
  cc: TPM_CC.SequenceComplete,
  name: 'TPM2_SequenceComplete',
  handles: ['TPMI_DH_OBJECT'],
  authHandles: 1,
  tpmaCc: 0x0300013e,
  decryptSize: 2,
  encryptSize: 2,
  prepare(p) {
    const buffer = p.next(decodeTpm2bMaxBuffer);
    const hierarchy = p.next((r) => decodeRhHierarchy(r, true));
    return (ctx, [handle = 0]) => {
      const seq = sequenceAt(handle, (h) => ctx.state.objects.get(h));
      if (seq.kind !== 'hash') fault(TPM_RC.MODE + RC_H + RC_1);
      const alg = ctx.state.suite.byId(seq.hashAlg);
      if (!alg) throw new Error('engine bug: hash sequence with an unimplemented algorithm');
      sequenceUpdate(seq, buffer);
      const result = sequenceDigest(seq, alg.name);
      if (!seq.firstBlock && ticketIsSafe(buffer)) seq.ticketSafe = true;
      ctx.state.objects.flush(handle);
      const safe = hierarchy !== TPM_RH.NULL && seq.ticketSafe;
      const ticketDigest = safe ? hashCheckTicket(ctx.state.proof, hierarchy, seq.hashAlg, result) : new Uint8Array(0);
      return {
        write: (w) => {
          w.sized16(result);
          w.u16(TPM_ST.HASHCHECK).u32(safe ? hierarchy : TPM_RH.NULL).sized16(ticketDigest);
        },
      };
    };
  },
};

/**
 * Part 3 §17.6: finish an event sequence: digests for every implemented algorithm, extended
 * into the allocated banks of pcrHandle unless it is TPM_RH_NULL; a hash sequence here is
 * TPM_RC_MODE on handle 2. The object is flushed on success (ms-tpm-20-ref `EventSequenceComplete.c`).
 */
export const EventSequenceComplete: CommandDef = {
  cc: TPM_CC.EventSequenceComplete,
  name: 'TPM2_EventSequenceComplete',
  handles: ['TPMI_DH_PCR+', 'TPMI_DH_OBJECT'],
  authHandles: 2,
  tpmaCc: 0x05400185,
  decryptSize: 2,
  prepare(p) {
    const buffer = p.next(decodeTpm2bMaxBuffer);
    return (ctx, [pcr = 0, handle = 0]) => {
      const seq = sequenceAt(handle, (h) => ctx.state.objects.get(h));
      if (seq.kind !== 'event') fault(TPM_RC.MODE + RC_H + 2 * RC_1);
      if (pcr !== TPM_RH.NULL) checkExtend(ctx, pcr);
      sequenceUpdate(seq, buffer);
      const results = ctx.state.suite.algs.map((alg) => {
        const d = sequenceDigest(seq, alg.name);
        if (pcr !== TPM_RH.NULL) ctx.state.pcrs.extend(pcr, alg, d);
        return { hashAlg: alg.algId, digest: d };
      });
      ctx.state.objects.flush(handle);
      return { write: (w) => encodeDigestValues(w, results) };
    };
  },
};
