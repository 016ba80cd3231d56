/**
 * TPM2_GetCapability (TPM 2.0 Library Part 3 §30.2; libtpms 0.9.2 `CapabilityCommands.c`,
 * `PropertyCap.c`, `AlgorithmCap.c`, `PCR.c`). Each list starts at `property`, is capped at
 * `propertyCount` (and the libtpms maximum), and sets moreData when entries remain.
 *
 * TPM_CAP_COMMANDS lists only the commands this engine implements (with libtpms' TPMA_CC), and
 * TPM_PT_TOTAL_COMMANDS / TPM_PT_LIBRARY_COMMANDS count those: a deliberate difference from
 * swtpm, which lists its 110 commands, so that clients never see a command that would answer
 * TPM_RC_COMMAND_CODE.
 *
 * CAPABILITIES holds one function per TPM_CAP (Part 2 §6.12); each answers the TPMU_CAPABILITIES
 * list (Part 2 §10.10.1, the TPML_* of §10.9) and moreData of TPMS_CAPABILITY_DATA (§10.10.2).
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
import {
  CC_INDEX_MASK,
  handleType,
  LIMITS,
  PT_FIXED,
  PT_GROUP,
  PT_VAR,
  SU_NONE_VALUE,
  TPM_CAP,
  TPM_CC,
  TPM_HT,
  TPM_PT,
  TPM_PT_PCR,
  TPM_PT_PCR_LAST,
} from '../constants.js';
import { fault } from '../marshal.js';
import { inPolicyOrAuthGroup, inTcbGroup, PCR_ATTRIBUTES } from '../pcr.js';
import { RC_1, RC_P, TPM_RC } from '../rc.js';
import { MAX_ACTIVE_SESSIONS, MAX_LOADED_SESSIONS } from '../sessions.js';
import { decodeCap } from '../structures.js';

/** GetCapability's parameters, and what a capability may consult. */
interface CapQuery {
  readonly ctx: CommandContext;
  readonly property: number;
  readonly propertyCount: number;
  /** The command table (TPM_CAP_COMMANDS, TPM_PT_TOTAL_COMMANDS). */
  readonly commands: () => readonly CommandDef[];
}

/** One capability's answer: moreData, and a writer of the TPMU_CAPABILITIES list. */
interface CapAnswer {
  readonly more: boolean;
  readonly write: (w: BeWriter) => void;
}

type Capability = (q: CapQuery) => CapAnswer;

/** TPMI_YES_NO (Part 2 §9.2). */
const YES = 1;
const NO = 0;

/** Format-1 errors blame a parameter (Part 2 §6.6.3): 1 = capability, 2 = property. */
function capabilityError(rc: number): never {
  return fault(rc + RC_P + 1 * RC_1);
}
function propertyError(rc: number): never {
  return fault(rc + RC_P + 2 * RC_1);
}

/** libtpms passes `property` to the algorithm and curve lists cast to TPM_ALG_ID / TPM_ECC_CURVE (UINT16). */
const asUint16 = (v: number): number => v & 0xffff;

/**
 * A TPML_*: the count, then the entries (sorted, already from `property` on) up to
 * min(propertyCount, max); moreData when some remain.
 */
function list<T>(items: readonly T[], q: CapQuery, max: number, writeOne: (w: BeWriter, item: T) => void): CapAnswer {
  const n = Math.min(q.propertyCount, max);
  const shown = items.slice(0, n);
  return {
    more: items.length > n,
    write: (w) => {
      w.u32(shown.length);
      for (const item of shown) writeOne(w, item);
    },
  };
}
const u32 = (w: BeWriter, v: number): void => void w.u32(v);

/** TPM_CAP_ALGS → TPML_ALG_PROPERTY: libtpms' algorithms, plus SM3_256 when this engine's suite has it. */
function algorithms(q: CapQuery): CapAnswer {
  const all: [number, number][] = LIBTPMS_ALGS.map(([a, p]) => [a, p]);
  if (q.ctx.state.suite.byId(TPM_ALG.SM3_256)) all.push([TPM_ALG.SM3_256, TPMA_ALGORITHM_HASH]);
  all.sort((x, y) => x[0] - y[0]);
  const start = asUint16(q.property);
  return list(
    all.filter(([alg]) => alg >= start),
    q,
    LIMITS.MAX_CAP_ALGS,
    (w, [alg, attrs]) => void w.u16(alg).u32(attrs),
  );
}

/** The handles of one type (Part 2 §7.2) that exist, or undefined for a type GetCapability refuses. */
function handlesOfType(ctx: CommandContext, ht: number, property: number): readonly number[] | undefined {
  switch (ht) {
    case TPM_HT.HMAC_SESSION:
      // TPM_HT_LOADED_SESSION: loaded HMAC and policy sessions from the context index of `property` on.
      return ctx.state.sessions.loadedHandles(property & 0x00ffffff);
    case TPM_HT.TRANSIENT:
      return ctx.state.objects.handles();
    case TPM_HT.PCR:
      return Array.from({ length: LIMITS.IMPLEMENTATION_PCR }, (_, i) => i);
    case TPM_HT.PERMANENT:
      return LIBTPMS_PERMANENT_HANDLES;
    case TPM_HT.PERSISTENT:
    case TPM_HT.NV_INDEX:
    case TPM_HT.POLICY_SESSION:
      return []; // this engine keeps no NV, persistent objects or saved (TPM_HT_SAVED_SESSION) sessions
    default:
      return undefined;
  }
}

/** TPM_CAP_HANDLES → TPML_HANDLE: handles of the type of `property`, from `property` on. */
function handles(q: CapQuery): CapAnswer {
  const ht = handleType(q.property);
  const all = handlesOfType(q.ctx, ht, q.property) ?? propertyError(TPM_RC.HANDLE);
  return list(
    ht === TPM_HT.HMAC_SESSION ? all : all.filter((h) => h >= q.property),
    q,
    LIMITS.MAX_CAP_HANDLES,
    u32,
  );
}

/** TPM_CAP_COMMANDS → TPML_CCA: the TPMA_CC of each implemented command, by commandIndex. */
function commands(q: CapQuery): CapAnswer {
  const index = (cc: number): number => cc & CC_INDEX_MASK;
  const all = q.commands().map((c) => c.tpmaCc).sort((x, y) => index(x) - index(y));
  // libtpms GetClosestCommandIndex: a start with any bit above the commandIndex finds nothing
  // (the vendor bit CC_VEND only looks among vendor commands, and none is implemented).
  const from = q.property <= CC_INDEX_MASK ? all.filter((a) => index(a) >= q.property) : [];
  return list(from, q, LIMITS.MAX_CAP_CC, u32);
}

/** TPM_CAP_PP_COMMANDS / TPM_CAP_AUDIT_COMMANDS → TPML_CC: a fixed libtpms list from `property` on. */
function commandCodes(codes: readonly number[]): Capability {
  return (q) =>
    list(
      codes.filter((c) => c >= q.property),
      q,
      LIMITS.MAX_CAP_CC,
      u32,
    );
}

/** TPM_CAP_PCRS → TPML_PCR_SELECTION: one entry per implemented hash, its allocated PCRs. */
function pcrs(q: CapQuery): CapAnswer {
  if (q.property !== 0) propertyError(TPM_RC.VALUE);
  if (q.propertyCount === 0) return { more: true, write: (w) => void w.u32(0) };
  const { suite, pcrs: banks } = q.ctx.state;
  return {
    more: false,
    write: (w) => {
      w.u32(suite.algs.length);
      suite.algs.forEach((a, i) => {
        w.u16(a.algId)
          .u8(LIMITS.PCR_SELECT_MAX)
          .bytes(banks.allocation[i] ?? new Uint8Array(LIMITS.PCR_SELECT_MAX));
      });
    },
  };
}

/** All TPM_PT_FIXED and TPM_PT_VAR values: libtpms' recorded ones with the state-dependent ones recomputed. */
function propertyValues(q: CapQuery): Map<number, number> {
  const { state } = q.ctx;
  const nCommands = q.commands().length;
  const m = new Map<number, number>([...LIBTPMS_FIXED_PROPERTIES, ...LIBTPMS_VAR_PROPERTIES]);
  m.set(TPM_PT.TOTAL_COMMANDS, nCommands);
  m.set(TPM_PT.LIBRARY_COMMANDS, nCommands);
  m.set(TPM_PT.PERMANENT, TPMA_PERMANENT_TPM_GENERATED_EPS);
  const orderly = state.prevOrderlyState !== SU_NONE_VALUE ? TPMA_STARTUP_CLEAR_ORDERLY : 0;
  m.set(TPM_PT.STARTUP_CLEAR, (TPMA_STARTUP_CLEAR_ENABLES | orderly) >>> 0);
  m.set(TPM_PT.HR_TRANSIENT_AVAIL, state.objects.free);
  m.set(TPM_PT.HR_LOADED, MAX_LOADED_SESSIONS - state.sessions.freeSlots);
  m.set(TPM_PT.HR_LOADED_AVAIL, state.sessions.freeSlots);
  m.set(TPM_PT.HR_ACTIVE, state.sessions.activeCount);
  m.set(TPM_PT.HR_ACTIVE_AVAIL, MAX_ACTIVE_SESSIONS - state.sessions.activeCount);
  return m;
}

/**
 * TPM_CAP_TPM_PROPERTIES → TPML_TAGGED_TPM_PROPERTY: from max(property, PT_FIXED) to the end of
 * that PT_GROUP only; groups after PT_VAR are empty.
 */
function tpmProperties(q: CapQuery): CapAnswer {
  const start = Math.max(q.property, PT_FIXED);
  let tagged: [number, number][] = [];
  if (start < PT_VAR + PT_GROUP) {
    const groupEnd = (Math.floor(start / PT_GROUP) + 1) * PT_GROUP;
    tagged = [...propertyValues(q)].filter(([k]) => k >= start && k < groupEnd).sort((x, y) => x[0] - y[0]);
  }
  return list(tagged, q, LIMITS.MAX_TPM_PROPERTIES, (w, [k, v]) => void w.u32(k).u32(v));
}

/** libtpms PCRGetProperty: the TPMS_PCR_SELECT bitmap of PCRs having one TPM_PT_PCR property, or undefined for a reserved tag. */
function pcrProperty(tag: number): Uint8Array | undefined {
  const select = (pred: (pcr: number) => boolean): Uint8Array => {
    const bm = new Uint8Array(LIMITS.PCR_SELECT_MAX);
    for (let pcr = 0; pcr < LIMITS.IMPLEMENTATION_PCR; pcr++) if (pred(pcr)) bm[pcr >> 3] = (bm[pcr >> 3] ?? 0) | (1 << (pcr & 7));
    return bm;
  };
  const a = (pcr: number) => PCR_ATTRIBUTES[pcr] ?? { stateSave: false, resetLocality: 0, extendLocality: 0 };
  if (tag === TPM_PT_PCR.SAVE) return select((p) => a(p).stateSave);
  if (tag >= TPM_PT_PCR.EXTEND_L0 && tag <= TPM_PT_PCR.RESET_L4) {
    // EXTEND_Ln, RESET_Ln alternate from EXTEND_L0.
    const locality = (tag - TPM_PT_PCR.EXTEND_L0) >> 1;
    const isReset = (tag - TPM_PT_PCR.EXTEND_L0) % 2 === 1;
    return select((p) => ((isReset ? a(p).resetLocality : a(p).extendLocality) & (1 << locality)) !== 0);
  }
  if (tag === TPM_PT_PCR.NO_INCREMENT) return select(inTcbGroup);
  if (tag === TPM_PT_PCR.DRTM_RESET) return select((p) => (a(p).resetLocality & (1 << 4)) !== 0);
  if (tag === TPM_PT_PCR.POLICY || tag === TPM_PT_PCR.AUTH) return select(inPolicyOrAuthGroup);
  return undefined;
}

/** TPM_CAP_PCR_PROPERTIES → TPML_TAGGED_PCR_PROPERTY: each defined TPM_PT_PCR from `property` on. */
function pcrProperties(q: CapQuery): CapAnswer {
  const tagged: [number, Uint8Array][] = [];
  for (let tag = q.property; tag <= TPM_PT_PCR_LAST; tag++) {
    const bm = pcrProperty(tag);
    if (bm) tagged.push([tag, bm]);
  }
  return list(tagged, q, LIMITS.MAX_PCR_PROPERTIES, (w, [tag, bm]) => void w.u32(tag).u8(bm.length).bytes(bm));
}

/** TPM_CAP_ECC_CURVES → TPML_ECC_CURVE. */
function eccCurves(q: CapQuery): CapAnswer {
  const start = asUint16(q.property);
  return list(
    LIBTPMS_ECC_CURVES.filter((c) => c >= start),
    q,
    LIMITS.MAX_ECC_CURVES,
    (w, c) => void w.u16(c),
  );
}

/** TPM_CAP_AUTH_POLICIES → TPML_TAGGED_POLICY: permanent handles only; every policy is empty (TPMT_HA of TPM_ALG_NULL). */
function authPolicies(q: CapQuery): CapAnswer {
  if (handleType(q.property) !== TPM_HT.PERMANENT) propertyError(TPM_RC.VALUE);
  return list(
    LIBTPMS_POLICY_HANDLES.filter((h) => h >= q.property),
    q,
    LIMITS.MAX_TAGGED_POLICIES,
    (w, h) => void w.u32(h).u16(TPM_ALG.NULL),
  );
}

/** TPM_CAP_ACT → TPML_ACT_DATA: property must name an ACT (TPM_RH_ACT_0..F); libtpms implements none. */
function acts(q: CapQuery): CapAnswer {
  if (q.property < TPM_RH_ACT_0 || q.property > TPM_RH_ACT_F) propertyError(TPM_RC.VALUE);
  return { more: false, write: (w) => void w.u32(0) };
}

/** TPM_CAP_VENDOR_PROPERTY is absent: libtpms implements none (TPM_RC_VALUE on the capability). */
const CAPABILITIES: ReadonlyMap<number, Capability> = new Map<number, Capability>([
  [TPM_CAP.ALGS, algorithms],
  [TPM_CAP.HANDLES, handles],
  [TPM_CAP.COMMANDS, commands],
  [TPM_CAP.PP_COMMANDS, commandCodes(LIBTPMS_PP_COMMANDS)],
  [TPM_CAP.AUDIT_COMMANDS, commandCodes(LIBTPMS_AUDIT_COMMANDS)],
  [TPM_CAP.PCRS, pcrs],
  [TPM_CAP.TPM_PROPERTIES, tpmProperties],
  [TPM_CAP.PCR_PROPERTIES, pcrProperties],
  [TPM_CAP.ECC_CURVES, eccCurves],
  [TPM_CAP.AUTH_POLICIES, authPolicies],
  [TPM_CAP.ACT, acts],
]);

export function makeGetCapability(commandTable: () => readonly CommandDef[]): CommandDef {
  return {
    cc: TPM_CC.GetCapability,
    name: 'TPM2_GetCapability',
    handles: [],
    authHandles: 0,
    // TPMA_CC: the commandIndex alone, no attribute bits (libtpms).
    tpmaCc: TPM_CC.GetCapability,
    prepare(p) {
      const capability = p.next(decodeCap);
      const property = p.next((r) => r.u32());
      const propertyCount = p.next((r) => r.u32());
      return (ctx) => {
        const answer = (CAPABILITIES.get(capability) ?? capabilityError(TPM_RC.VALUE))({ ctx, property, propertyCount, commands: commandTable });
        return {
          write: (w) => {
            w.u8(answer.more ? YES : NO).u32(capability);
            answer.write(w);
          },
        };
      };
    },
  };
}
