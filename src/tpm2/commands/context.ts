/**
 * TPM2_FlushContext (TPM 2.0 Library Part 3 §28.4; libtpms 0.9.2 `ContextCommands.c`).
 * flushHandle is a *parameter* (TPMI_DH_CONTEXT), so a bad one is TPM_RC_HANDLE + P1.
 * This TPM has no HMAC/policy sessions, so every session handle is "not loaded".
 */
import type { CommandDef } from '../command.js';
import { handleType, TPM_CC, TPM_HT } from '../constants.js';
import { fault } from '../marshal.js';
import { RC_1, RC_P, TPM_RC } from '../rc.js';
import { decodeDhContext } from '../structures.js';

export const FlushContext: CommandDef = {
  cc: TPM_CC.FlushContext,
  name: 'TPM2_FlushContext',
  handles: [],
  authHandles: 0,
  noSessions: true,
  tpmaCc: 0x00000165,
  prepare(p) {
    const flushHandle = p.next(decodeDhContext);
    return (ctx) => {
      if (handleType(flushHandle) !== TPM_HT.TRANSIENT || !ctx.state.objects.isPresent(flushHandle)) {
        fault(TPM_RC.HANDLE + RC_P + RC_1);
      }
      ctx.state.objects.flush(flushHandle);
      return {};
    };
  },
};
