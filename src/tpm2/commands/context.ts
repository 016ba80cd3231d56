/**
 * TPM2_FlushContext (TPM 2.0 Library Part 3 §28.4; libtpms 0.9.2 `ContextCommands.c`).
 * flushHandle is a *parameter* (TPMI_DH_CONTEXT), so a bad one is TPM_RC_HANDLE + P1. A session
 * handle is looked up by its context index only (libtpms SessionIsLoaded), whatever its type.
 */
import type { CommandDef } from '../command.js';
import { handleType, TPM_CC, TPM_HT, TPM_RH } from '../constants.js';
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
      const s = ctx.state;
      if (handleType(flushHandle) === TPM_HT.TRANSIENT) {
        if (!s.objects.isPresent(flushHandle)) fault(TPM_RC.HANDLE + RC_P + RC_1);
        s.objects.flush(flushHandle);
        return {};
      }
      if (!s.sessions.isLoaded(flushHandle)) fault(TPM_RC.HANDLE + RC_P + RC_1);
      if (flushHandle === s.exclusiveAuditSession) s.exclusiveAuditSession = TPM_RH.UNASSIGNED;
      s.sessions.flush(flushHandle);
      return {};
    };
  },
};
