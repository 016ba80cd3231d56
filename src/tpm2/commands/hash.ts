/**
 * TPM2_Hash (TPM 2.0 Library Part 3 §15.4; libtpms 0.9.2 `SymmetricCommands.c`).
 */
import { digest } from '../../hash/index.js';
import type { CommandDef } from '../command.js';
import { TPM_CC, TPM_RH, TPM_ST } from '../constants.js';
import { decodeAlgHash, decodeRhHierarchy, decodeTpm2bMaxBuffer } from '../structures.js';
import { hashCheckTicket, ticketIsSafe } from './ticket.js';

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
  decryptSize: 2,
  encryptSize: 2,
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
