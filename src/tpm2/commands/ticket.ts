/**
 * TPMT_TK_HASHCHECK tickets (TPM 2.0 Library Part 2 §10.7.6; libtpms 0.9.2 `Ticket.c`).
 *
 * The ticket HMAC is keyed with a hierarchy proof, a secret of each TPM; ours is random per
 * engine, so tickets are well-formed (HMAC-SHA512, 64 bytes, like libtpms'
 * CONTEXT_INTEGRITY_HASH_ALG) but never byte-equal to another TPM's.
 */
import { createHmac } from 'node:crypto';
import { BeWriter, u32be } from '../../bytes/index.js';
import { TPM_GENERATED_VALUE, TPM_ST } from '../constants.js';

/** TicketIsSafe: at least 4 bytes that do not start with TPM_GENERATED_VALUE. */
export function ticketIsSafe(data: Uint8Array): boolean {
  return data.length >= 4 && u32be(data, 0) !== TPM_GENERATED_VALUE;
}

/** TicketComputeHashCheck: HMAC-SHA512(proof(hierarchy), TPM_ST_HASHCHECK ‖ hashAlg ‖ digest). */
export function hashCheckTicket(proof: Uint8Array, hierarchy: number, hashAlg: number, d: Uint8Array): Uint8Array {
  const key = new BeWriter().bytes(proof).u32(hierarchy).finish();
  const msg = new BeWriter().u16(TPM_ST.HASHCHECK).u16(hashAlg).bytes(d).finish();
  return new Uint8Array(createHmac('sha512', key).update(msg).digest());
}
