/**
 * TPM2_Startup and TPM2_Shutdown (TPM 2.0 Library Part 3 §9.3, §9.4; ms-tpm-20-ref `PCR.c` `PCRStartup`), following
 * libtpms 0.9.2 `StartupCommands.c`.
 *
 * Startup is allowed only at locality 0 or 3 (else TPM_RC_LOCALITY); PCR 0's last byte becomes
 * the startup locality unless an H-CRTM sequence ran before Startup (then locality counts as 0
 * and PCR 0 is left alone). Probed on swtpm: setLocality(3) + Startup(CLEAR) gives PCR0 = 00…03.
 */
import type { CommandDef } from '../command.js';
import { PRE_STARTUP_FLAG, STARTUP_LOCALITY_3, SU_NONE_VALUE, TPM_CC, TPM_SU } from '../constants.js';
import { fault } from '../marshal.js';
import type { StartupKind } from '../pcr.js';
import { RC_1, RC_P, TPM_RC } from '../rc.js';
import { decodeSu } from '../structures.js';

/** IS_ORDERLY: any value below SU_DA_USED_VALUE (0xFFFE). */
function isOrderly(v: number): boolean {
  return v < SU_NONE_VALUE - 1;
}

export const Startup: CommandDef = {
  cc: TPM_CC.Startup,
  name: 'TPM2_Startup',
  handles: [],
  authHandles: 0,
  noSessions: true,
  tpmaCc: 0x00400144,
  prepare(p) {
    const startupType = p.next(decodeSu);
    return (ctx) => {
      const s = ctx.state;
      let locality: number = ctx.locality;
      if (locality !== 0 && locality !== 3) fault(TPM_RC.LOCALITY);
      if (s.drtmPreStartup) locality = 0;
      s.startupLocality3 = locality === 3;
      let prev = s.orderlyState;
      if (isOrderly(prev)) prev &= ~(PRE_STARTUP_FLAG | STARTUP_LOCALITY_3);
      s.prevOrderlyState = prev;
      if (startupType === TPM_SU.STATE) {
        if (prev !== TPM_SU.STATE) fault(TPM_RC.VALUE + RC_P + RC_1);
        if (s.drtmPreStartup !== ((s.orderlyState & PRE_STARTUP_FLAG) !== 0)) fault(TPM_RC.VALUE + RC_P + RC_1);
        if (s.startupLocality3 !== ((s.orderlyState & STARTUP_LOCALITY_3) !== 0)) fault(TPM_RC.LOCALITY);
      }
      s.orderlyState = prev;
      let kind: StartupKind = 'reset';
      if (prev === TPM_SU.STATE) {
        kind = startupType === TPM_SU.STATE ? 'resume' : 'restart';
        s.pcrs.counter = s.saved?.pcrCounter ?? 0;
      }
      s.pcrs.startup(kind, locality, s.drtmPreStartup, s.saved?.pcrSave);
      s.pcrReConfig = false;
      s.objects.clear();
      // SessionStartup: every loaded session is lost, whatever the startup type.
      s.sessions.clear();
      s.started = true;
      s.orderlyState = SU_NONE_VALUE;
      return {};
    };
  },
};

export const Shutdown: CommandDef = {
  cc: TPM_CC.Shutdown,
  name: 'TPM2_Shutdown',
  handles: [],
  authHandles: 0,
  tpmaCc: 0x00400145,
  prepare(p) {
    const shutdownType = p.next(decodeSu);
    return (ctx) => {
      const s = ctx.state;
      if (s.pcrReConfig && shutdownType === TPM_SU.STATE) fault(TPM_RC.TYPE + RC_P + RC_1);
      s.orderlyState = shutdownType;
      if (shutdownType === TPM_SU.STATE) {
        s.saved = { pcrSave: s.pcrs.stateSave(), pcrCounter: s.pcrs.counter };
        if (s.drtmPreStartup) s.orderlyState |= PRE_STARTUP_FLAG;
        else if (s.startupLocality3) s.orderlyState |= STARTUP_LOCALITY_3;
      }
      return {};
    };
  },
};
