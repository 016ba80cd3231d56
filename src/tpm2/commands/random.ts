/**
 * TPM2_GetRandom (TPM 2.0 Library Part 3 §16.1): at most sizeof(TPMU_HA) = 64 bytes per call,
 * as libtpms 0.9.2 `RandomCommands.c` (probed: a request for 80 bytes returns 64).
 */
import type { CommandDef } from '../command.js';
import { LIMITS, TPM_CC } from '../constants.js';

export const GetRandom: CommandDef = {
  cc: TPM_CC.GetRandom,
  name: 'TPM2_GetRandom',
  handles: [],
  authHandles: 0,
  tpmaCc: 0x0000017b,
  encryptSize: 2,
  prepare(p) {
    const bytesRequested = p.next((r) => r.u16());
    return (ctx) => {
      const bytes = ctx.random(Math.min(bytesRequested, LIMITS.MAX_DIGEST_SIZE));
      return { write: (w) => w.sized16(bytes) };
    };
  },
};
