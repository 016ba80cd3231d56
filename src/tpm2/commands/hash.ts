/**
 * TPM2_Hash (TPM 2.0 Library Part 3 §15.4) and the TPMT_TK_HASHCHECK ticket (Part 2 §10.7.6,
 * libtpms 0.9.2 `Ticket.c`).
 *
 * The ticket HMAC is keyed with a hierarchy proof, a secret of each TPM; ours is random per
 * engine, so tickets are well-formed (SHA-512 HMAC, 64 bytes, like libtpms'
 * CONTEXT_INTEGRITY_HASH_ALG) but never byte-equal to another TPM's.
 */
import { createHmac } from 'node:crypto';
import { BeWriter } from '../../bytes/index.js';
import { digest } from '../../hash/index.js';
import type { CommandDef } from '../command.js';
import { TPM_CC, TPM_RH, TPM_ST } from '../constants.js';
import { decodeAlgHash, decodeRhHierarchy, decodeTpm2bMaxBuffer } from '../structures.js';
import { ticketIsSafe } from './sequence.js';

/** TicketComputeHashCheck: HMAC-SHA512(proof(hierarchy), TPM_ST_HASHCHECK ‖ hashAlg ‖ digest). */
export function hashCheckTicket(proof: Uint8Array, hierarchy: number, hashAlg: number, d: Uint8Array): Uint8Array {
  const key = new BeWriter().bytes(proof).u32(hierarchy).finish();
  const msg = new BeWriter().u16(TPM_ST.HASHCHECK).u16(hashAlg).bytes(d).finish();
  return new Uint8Array(createHmac('sha512', key).update(msg).digest());
}

/**
 * Part 3 §15.4: unlike SequenceComplete, data shorter than 4 bytes still gets a ticket; only
 * data that starts with TPM_GENERATED_VALUE does not.
 */
export const Hash: CommandDef = {
  cc: TPM_CC.Hash,
  name: 'TPM2_Hash',
  handles: [],
  authHandles: 0,
  tpmaCc: 0x0000017d,
  prepare(p, state) {
    const data = p.next(decodeTpm2bMaxBuffer);
    const hashAlg = p.next((r) => decodeAlgHash(r, state.suite, false));
    const hierarchy = p.next((r) => decodeRhHierarchy(r, true));
    return (ctx) => {
      const alg = ctx.state.suite.byId(hashAlg);
      if (!alg) throw new Error('engine bug: unimplemented hash passed unmarshalling');
      const outHash = digest(alg, data);
      const unsafe = data.length >= 4 && !ticketIsSafe(data);
      const ticket = hierarchy === TPM_RH.NULL || unsafe ? null : hashCheckTicket(ctx.state.proof, hierarchy, hashAlg, outHash);
      return {
        write: (w) => {
          w.sized16(outHash);
          w.u16(TPM_ST.HASHCHECK).u32(ticket ? hierarchy : TPM_RH.NULL).sized16(ticket ?? new Uint8Array(0));
        },
      };
    };
  },
};
