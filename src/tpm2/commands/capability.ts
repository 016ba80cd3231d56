/**
 * TPM2_GetCapability (TPM 2.0 Library Part 3 §30.2; libtpms 0.9.2 `CapabilityCommands.c`,
 * `PropertyCap.c`, `AlgorithmCap.c`, `PCR.c`). Each list starts at `property`, is capped at
 * `propertyCount` (and the libtpms maximum), and sets moreData when entries remain.
 *
 * TPM_CAP_COMMANDS lists only the commands this engine implements (with libtpms' TPMA_CC), and
 * TPM_PT_TOTAL_COMMANDS / TPM_PT_LIBRARY_COMMANDS count those: a deliberate difference from
 * swtpm, which lists its 110 commands, so that clients never see a command that would answer
 * TPM_RC_COMMAND_CODE.
 */
import type { BeWriter } from '../../bytes/index.js';
import { TPM_ALG } from '../../hash/index.js';
import type { CommandContext, CommandDef } from '../command.js';
import {
  LIBTPMS_ALGS,
  LIBTPMS_AUDIT_COMMANDS,
  LIBTPMS_ECC_CURVES,
  LIBTPMS_FIXED_PROPERTIES,
  LIBTPMS_PERMANENT_HANDLES,
  LIBTPMS_POLICY_HANDLES,
  LIBTPMS_PP_COMMANDS,
  LIBTPMS_VAR_PROPERTIES,
  TPM_RH_ACT_0,
  TPM_RH_ACT_F,
  TPMA_ALGORITHM_HASH,
  TPMA_PERMANENT_TPM_GENERATED_EPS,
  TPMA_STARTUP_CLEAR_ENABLES,
  TPMA_STARTUP_CLEAR_ORDERLY,
} from '../capability-data.js';
import { handleType, LIMITS, PT_FIXED, PT_VAR, SU_NONE_VALUE, TPM_CAP, TPM_CC, TPM_HT, TPM_PT, TPM_PT_PCR, TPM_PT_PCR_LAST } from '../constants.js';
import { fault } from '../marshal.js';
import { inPolicyOrAuthGroup, inTcbGroup, PCR_ATTRIBUTES } from '../pcr.js';
import { RC_1, RC_P, TPM_RC } from '../rc.js';
import { decodeCap } from '../structures.js';

const PT_GROUP = 0x100;

/** Take entries (already sorted, already filtered to >= start) up to count; more = some left. */
function page<T>(items: readonly T[], count: number, max: number): { list: T[]; more: boolean } {
  const n = Math.min(count, max);
  return { list: items.slice(0, n), more: items.length > n };
}

function algorithms(ctx: CommandContext): [number, number][] {
  const list: [number, number][] = LIBTPMS_ALGS.map(([a, p]) => [a, p]);
  if (ctx.state.suite.byId(TPM_ALG.SM3_256)) list.push([TPM_ALG.SM3_256, TPMA_ALGORITHM_HASH]);
  return list.sort((x, y) => x[0] - y[0]);
}

function tpmProperties(ctx: CommandContext, nCommands: number): Map<number, number> {
  const m = new Map<number, number>([...LIBTPMS_FIXED_PROPERTIES, ...LIBTPMS_VAR_PROPERTIES]);
  m.set(TPM_PT.TOTAL_COMMANDS, nCommands);
  m.set(TPM_PT.LIBRARY_COMMANDS, nCommands);
  m.set(TPM_PT.PERMANENT, TPMA_PERMANENT_TPM_GENERATED_EPS);
  const orderly = ctx.state.prevOrderlyState !== SU_NONE_VALUE ? TPMA_STARTUP_CLEAR_ORDERLY : 0;
  m.set(TPM_PT.STARTUP_CLEAR, (TPMA_STARTUP_CLEAR_ENABLES | orderly) >>> 0);
  m.set(TPM_PT.HR_TRANSIENT_AVAIL, ctx.state.objects.free);
  return m;
}

/** PCRGetProperty: the bitmap of PCRs having one PCR property, or undefined for a reserved tag. */
function pcrProperty(tag: number): Uint8Array | undefined {
  const select = (pred: (pcr: number) => boolean): Uint8Array => {
    const bm = new Uint8Array(LIMITS.PCR_SELECT_MAX);
    for (let pcr = 0; pcr < LIMITS.IMPLEMENTATION_PCR; pcr++) if (pred(pcr)) bm[pcr >> 3] = (bm[pcr >> 3] ?? 0) | (1 << (pcr & 7));
    return bm;
  };
  const a = (pcr: number) => PCR_ATTRIBUTES[pcr] ?? { stateSave: false, resetLocality: 0, extendLocality: 0 };
  if (tag === TPM_PT_PCR.SAVE) return select((p) => a(p).stateSave);
  if (tag >= TPM_PT_PCR.EXTEND_L0 && tag <= TPM_PT_PCR.RESET_L4) {
    const locality = (tag - 1) >> 1;
    const isReset = (tag - 1) % 2 === 1;
    return select((p) => ((isReset ? a(p).resetLocality : a(p).extendLocality) & (1 << locality)) !== 0);
  }
  if (tag === TPM_PT_PCR.NO_INCREMENT) return select(inTcbGroup);
  if (tag === TPM_PT_PCR.DRTM_RESET) return select((p) => (a(p).resetLocality & 0x10) !== 0);
  if (tag === TPM_PT_PCR.POLICY || tag === TPM_PT_PCR.AUTH) return select(inPolicyOrAuthGroup);
  return undefined;
}

export function makeGetCapability(commands: () => readonly CommandDef[]): CommandDef {
  return {
    cc: TPM_CC.GetCapability,
    name: 'TPM2_GetCapability',
    handles: [],
    authHandles: 0,
    tpmaCc: 0x0000017a,
    prepare(p) {
      const capability = p.next(decodeCap);
      const property = p.next((r) => r.u32());
      const propertyCount = p.next((r) => r.u32());
      return (ctx) => {
        let more = false;
        let body: (w: BeWriter) => void;
        const u32List = (items: readonly number[], max: number) => {
          const pg = page(items, propertyCount, max);
          more = pg.more;
          return (w: BeWriter) => {
            w.u32(pg.list.length);
            for (const v of pg.list) w.u32(v);
          };
        };
        switch (capability) {
          case TPM_CAP.ALGS: {
            const pg = page(algorithms(ctx).filter(([a]) => a >= (property & 0xffff)), propertyCount, LIMITS.MAX_CAP_ALGS);
            more = pg.more;
            body = (w) => {
              w.u32(pg.list.length);
              for (const [alg, attrs] of pg.list) w.u16(alg).u32(attrs);
            };
            break;
          }
          case TPM_CAP.HANDLES: {
            const ht = handleType(property);
            let all: number[];
            if (ht === TPM_HT.TRANSIENT) all = ctx.state.objects.handles();
            else if (ht === TPM_HT.PCR) all = Array.from({ length: LIMITS.IMPLEMENTATION_PCR }, (_, i) => i);
            else if (ht === TPM_HT.PERMANENT) all = [...LIBTPMS_PERMANENT_HANDLES];
            else if (ht === TPM_HT.PERSISTENT || ht === TPM_HT.NV_INDEX || ht === TPM_HT.HMAC_SESSION || ht === TPM_HT.POLICY_SESSION) all = [];
            else return fault(TPM_RC.HANDLE + RC_P + 2 * RC_1);
            const start = ht === TPM_HT.PCR ? property & 0x00ffffff : property;
            body = u32List(all.filter((h) => h >= start), LIMITS.MAX_CAP_HANDLES);
            break;
          }
          case TPM_CAP.COMMANDS: {
            const all = commands().map((c) => c.tpmaCc).sort((x, y) => (x & 0xffff) - (y & 0xffff));
            body = u32List(all.filter((a) => (a & 0xffff) >= (property & 0xffff) && property < 0x20000000), LIMITS.MAX_CAP_CC);
            break;
          }
          case TPM_CAP.PP_COMMANDS:
            body = u32List(LIBTPMS_PP_COMMANDS.filter((c) => c >= property), LIMITS.MAX_CAP_CC);
            break;
          case TPM_CAP.AUDIT_COMMANDS:
            body = u32List(LIBTPMS_AUDIT_COMMANDS.filter((c) => c >= property), LIMITS.MAX_CAP_CC);
            break;
          case TPM_CAP.PCRS: {
            if (property !== 0) return fault(TPM_RC.VALUE + RC_P + 2 * RC_1);
            const { suite, pcrs } = ctx.state;
            more = propertyCount === 0;
            body = (w) => {
              if (propertyCount === 0) return void w.u32(0);
              w.u32(suite.algs.length);
              suite.algs.forEach((a, i) => w.u16(a.algId).u8(LIMITS.PCR_SELECT_MAX).bytes(pcrs.allocation[i] ?? new Uint8Array(3)));
            };
            break;
          }
          case TPM_CAP.TPM_PROPERTIES: {
            const start = Math.max(property, PT_FIXED);
            let list: [number, number][] = [];
            if (start < PT_VAR + PT_GROUP) {
              const end = Math.floor(start / PT_GROUP) * PT_GROUP + PT_GROUP;
              list = [...tpmProperties(ctx, commands().length)].filter(([k]) => k >= start && k < end).sort((x, y) => x[0] - y[0]);
            }
            const pg = page(list, propertyCount, LIMITS.MAX_TPM_PROPERTIES);
            more = pg.more;
            body = (w) => {
              w.u32(pg.list.length);
              for (const [k, v] of pg.list) w.u32(k).u32(v);
            };
            break;
          }
          case TPM_CAP.PCR_PROPERTIES: {
            const list: [number, Uint8Array][] = [];
            for (let tag = property; tag <= TPM_PT_PCR_LAST; tag++) {
              const bm = pcrProperty(tag);
              if (bm) list.push([tag, bm]);
            }
            const pg = page(list, propertyCount, LIMITS.MAX_PCR_PROPERTIES);
            more = pg.more;
            body = (w) => {
              w.u32(pg.list.length);
              for (const [tag, bm] of pg.list) w.u32(tag).u8(bm.length).bytes(bm);
            };
            break;
          }
          case TPM_CAP.ECC_CURVES: {
            const pg = page(LIBTPMS_ECC_CURVES.filter((c) => c >= (property & 0xffff)), propertyCount, 508);
            more = pg.more;
            body = (w) => {
              w.u32(pg.list.length);
              for (const c of pg.list) w.u16(c);
            };
            break;
          }
          case TPM_CAP.AUTH_POLICIES: {
            if (handleType(property) !== TPM_HT.PERMANENT) return fault(TPM_RC.VALUE + RC_P + 2 * RC_1);
            const pg = page(LIBTPMS_POLICY_HANDLES.filter((h) => h >= property), propertyCount, 14);
            more = pg.more;
            body = (w) => {
              w.u32(pg.list.length);
              for (const h of pg.list) w.u32(h).u16(TPM_ALG.NULL);
            };
            break;
          }
          case TPM_CAP.ACT:
            if (property < TPM_RH_ACT_0 || property > TPM_RH_ACT_F) return fault(TPM_RC.VALUE + RC_P + 2 * RC_1);
            body = (w) => void w.u32(0);
            break;
          default:
            // TPM_CAP_VENDOR_PROPERTY: libtpms implements none.
            return fault(TPM_RC.VALUE + RC_P + RC_1);
        }
        return {
          write: (w) => {
            w.u8(more ? 1 : 0).u32(capability);
            body(w);
          },
        };
      };
    },
  };
}
