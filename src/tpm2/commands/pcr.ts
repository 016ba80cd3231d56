/**
 * Integrity collection commands (TPM 2.0 Library Part 3 §22; PC Client PCR attributes in ../pcr.ts), following
 * libtpms 0.9.2 `IntegrityCommands.c`: TPM2_PCR_Extend, TPM2_PCR_Event, TPM2_PCR_Read,
 * TPM2_PCR_Reset, TPM2_PCR_Allocate.
 */
import { digest } from '../../hash/index.js';
import type { CommandContext, CommandDef } from '../command.js';
import { LIMITS, SU_NONE_VALUE, TPM_CC, TPM_RH } from '../constants.js';
import { fault } from '../marshal.js';
import { bitIsSet, isExtendAllowed, isResetAllowed, isStateSaved } from '../pcr.js';
import { TPM_RC } from '../rc.js';
import {
  decodeDigestValues,
  decodePcrSelectionList,
  decodeTpm2bEvent,
  encodeDigestList,
  encodeDigestValues,
  encodePcrSelectionList,
} from '../structures.js';

/** RETURN_IF_ORDERLY: changing a state-saved PCR makes the TPM non-orderly. */
export function clearOrderlyIfStateSaved(ctx: CommandContext, pcr: number): void {
  if (isStateSaved(pcr)) ctx.state.orderlyState = SU_NONE_VALUE;
}

/** The locality/orderly checks shared by PCR_Extend, PCR_Event and EventSequenceComplete. */
export function checkExtend(ctx: CommandContext, pcr: number): void {
  if (!isExtendAllowed(pcr, ctx.locality)) fault(TPM_RC.LOCALITY);
  clearOrderlyIfStateSaved(ctx, pcr);
}

/** Part 3 §22.2 TPM2_PCR_Extend: RH_NULL succeeds doing nothing; unallocated banks are dropped. */
export const PCR_Extend: CommandDef = {
  cc: TPM_CC.PCR_Extend,
  name: 'TPM2_PCR_Extend',
  handles: ['TPMI_DH_PCR+'],
  authHandles: 1,
  tpmaCc: 0x02400182,
  prepare(p, state) {
    const digests = p.next((r) => decodeDigestValues(r, state.suite));
    return (ctx, [pcr = 0]) => {
      if (pcr === TPM_RH.NULL) return {};
      checkExtend(ctx, pcr);
      for (const d of digests) {
        const alg = ctx.state.suite.byId(d.hashAlg);
        if (alg) ctx.state.pcrs.extend(pcr, alg, d.digest);
      }
      return {};
    };
  },
};

/** Part 3 §22.3 TPM2_PCR_Event: hash eventData with every implemented algorithm; extend if not NULL. */
export const PCR_Event: CommandDef = {
  cc: TPM_CC.PCR_Event,
  name: 'TPM2_PCR_Event',
  handles: ['TPMI_DH_PCR+'],
  authHandles: 1,
  tpmaCc: 0x0240013c,
  decryptSize: 2,
  prepare(p) {
    const eventData = p.next(decodeTpm2bEvent);
    return (ctx, [pcr = 0]) => {
      if (pcr !== TPM_RH.NULL) checkExtend(ctx, pcr);
      const digests = ctx.state.suite.algs.map((alg) => {
        const d = digest(alg, eventData);
        if (pcr !== TPM_RH.NULL) ctx.state.pcrs.extend(pcr, alg, d);
        return { hashAlg: alg.algId, digest: d };
      });
      return { write: (w) => encodeDigestValues(w, digests) };
    };
  },
};

/** Part 3 §22.4 TPM2_PCR_Read: pcrUpdateCounter, the filtered selection, at most 8 digests. */
export const PCR_Read: CommandDef = {
  cc: TPM_CC.PCR_Read,
  name: 'TPM2_PCR_Read',
  handles: [],
  authHandles: 0,
  tpmaCc: 0x0000017e,
  prepare(p, state) {
    const selections = p.next((r) => decodePcrSelectionList(r, state.suite));
    return (ctx) => {
      const values = ctx.state.pcrs.read(selections);
      const counter = ctx.state.pcrs.counter;
      return {
        write: (w) => {
          w.u32(counter);
          encodePcrSelectionList(w, selections);
          encodeDigestList(w, values);
        },
      };
    };
  },
};

/** Part 3 §22.8 TPM2_PCR_Reset: resetLocality of ../pcr.ts (never at locality 4, docs/tpm-quirks.md#pcr-reset-rules); banks → 0. */
export const PCR_Reset: CommandDef = {
  cc: TPM_CC.PCR_Reset,
  name: 'TPM2_PCR_Reset',
  handles: ['TPMI_DH_PCR'],
  authHandles: 1,
  tpmaCc: 0x0240013d,
  prepare() {
    return (ctx, [pcr = 0]) => {
      if (!isResetAllowed(pcr, ctx.locality)) fault(TPM_RC.LOCALITY);
      clearOrderlyIfStateSaved(ctx, pcr);
      ctx.state.pcrs.resetToZero(pcr);
      ctx.state.pcrs.changed(pcr);
      return {};
    };
  },
};

/**
 * Part 3 §22.5 TPM2_PCR_Allocate: the new allocation is written to NV and takes effect at the
 * next _TPM_Init + Startup. Banks not named keep the *current* (RAM) allocation, so a second
 * Allocate before init replaces the first. At least one bank must hold PCR 0 and PCR 17.
 */
export const PCR_Allocate: CommandDef = {
  cc: TPM_CC.PCR_Allocate,
  name: 'TPM2_PCR_Allocate',
  handles: ['TPMI_RH_PLATFORM'],
  authHandles: 1,
  tpmaCc: 0x0240012b,
  prepare(p, state) {
    const request = p.next((r) => decodePcrSelectionList(r, state.suite));
    return (ctx) => {
      const { suite, pcrs } = ctx.state;
      const next = pcrs.allocation.map((b) => b.slice());
      for (const sel of request) {
        const i = suite.algs.findIndex((a) => a.algId === sel.hash);
        if (i >= 0) next[i] = sel.pcrSelect.slice();
      }
      let sizeNeeded = 0;
      let hasDrtm = false;
      let hasHcrtm = false;
      next.forEach((bm, i) => {
        const size = suite.algs[i]?.size ?? 0;
        hasDrtm ||= bitIsSet(bm, LIMITS.DRTM_PCR);
        hasHcrtm ||= bitIsSet(bm, LIMITS.HCRTM_PCR);
        for (let pcr = 0; pcr < 8 * LIMITS.PCR_SELECT_MAX; pcr++) if (bitIsSet(bm, pcr)) sizeNeeded += size;
      });
      if (!hasDrtm || !hasHcrtm) fault(TPM_RC.PCR);
      ctx.state.nvAllocation = next;
      ctx.state.pcrReConfig = true;
      return {
        write: (w) => {
          w.u8(1); // allocationSuccess = YES
          w.u32(LIMITS.IMPLEMENTATION_PCR); // maxPCR
          w.u32(sizeNeeded);
          // sizeAvailable = sizeof(s_pcrs): 24 PCRs × every implemented digest (3936 on libtpms)
          w.u32(LIMITS.IMPLEMENTATION_PCR * suite.algs.reduce((n, a) => n + a.size, 0));
        },
      };
    };
  },
};
