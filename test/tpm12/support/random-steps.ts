/**
 * Deterministic random TPM 1.2 streams for the differential suite. Everything derives from the
 * seed (mulberry32), so a failing seed replays exactly.
 *
 * Limits that come from the transport, not from the TPM:
 * - commands stay ≤ 4096 bytes: swtpm reads at most 4105 bytes per command from its socket and
 *   would split a longer one into two commands;
 * - no command shorter than 10 bytes: swtpm's socket reader waits for a whole header;
 * - no ordinal 0x20001000: swtpm handles it itself (in-band SET_LOCALITY) before libtpms;
 * - no ordinal libtpms implements but this engine does not (they are refused, see report).
 */
import type { Locality } from '../../../src/tpm/engine.js';
import { LIBTPMS_ORDINALS, TPM_CAP, TPM_CAP_FLAG, TPM_ORD, TPM_ST, TPM_TAG, TPM_TEST_STATE, createTpm12 } from '../../../src/tpm12/index.js';
import {
  cat,
  cmd,
  extend,
  getCapability,
  getRandom,
  getTestResult,
  pcrRead,
  pcrReset,
  rawCmd,
  sha1Complete,
  sha1CompleteExtend,
  sha1Start,
  sha1Update,
  startup,
  u16,
  u32,
} from './commands.js';
import { applyToEngine, type Step } from './differential.js';

const SWTPM_SET_LOCALITY = 0x20001000;
const MAX_WIRE = 4096;

export class Prng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  /** mulberry32 */
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 0x100000000;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  u32(): number {
    return (this.int(0x10000) * 0x10000 + this.int(0x10000)) >>> 0;
  }
  pick<T>(xs: readonly T[]): T {
    const x = xs[this.int(xs.length)];
    if (x === undefined) throw new Error('pick from empty list');
    return x;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  bytes(n: number): Uint8Array {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
  locality(): Locality {
    return this.pick<Locality>([0, 1, 2, 3, 4]);
  }
}

function pcrIndex(r: Prng): number {
  if (r.chance(0.85)) return r.int(24);
  return r.pick([24, 25, 31, 0x100, 0x80000000, 0xffffffff, r.u32()]);
}

function selection(r: Prng): Uint8Array {
  if (r.chance(0.6)) {
    const sel = new Uint8Array(3);
    const pcr = r.chance(0.8) ? 16 + r.int(8) : r.int(24);
    sel[pcr >> 3] = 1 << (pcr & 7);
    if (r.chance(0.3)) sel[2] = (sel[2] ?? 0) | r.int(256);
    return pcrReset(3, sel);
  }
  const size = r.pick([0, 1, 2, 3, 3, 4, 0xffff]);
  const given = r.chance(0.8) ? Math.min(size, 5) : r.int(6);
  return pcrReset(size, r.bytes(given));
}

function sha1Command(r: Prng): Uint8Array {
  switch (r.int(6)) {
    case 0:
    case 1:
      return sha1Start();
    case 2: {
      const good = r.chance(0.75);
      const n = good ? 64 * r.pick([0, 1, 2, 4, 16, 63]) : r.pick([1, 63, 65, 100, 4000]);
      return sha1Update(r.bytes(n));
    }
    case 3:
      return sha1Complete(r.bytes(r.chance(0.85) ? r.int(65) : 65 + r.int(40)));
    case 4:
      return sha1CompleteExtend(pcrIndex(r), r.bytes(r.chance(0.85) ? r.int(65) : 65 + r.int(10)));
    default:
      return sha1Update(r.bytes(64 * r.int(63)));
  }
}

const CAPS: ReadonlyArray<readonly [number, () => Uint8Array]> = [
  [TPM_CAP.PROPERTY, () => u32(0x101)],
  [TPM_CAP.PROPERTY, () => u32(0x103)],
  [TPM_CAP.PROPERTY, () => u32(0x124)],
  [TPM_CAP.VERSION, () => new Uint8Array(0)],
  [TPM_CAP.VERSION_VAL, () => new Uint8Array(0)],
  [TPM_CAP.FLAG, () => u32(TPM_CAP_FLAG.PERMANENT)],
  [TPM_CAP.FLAG, () => u32(TPM_CAP_FLAG.VOLATILE)],
];

function capability(r: Prng): Uint8Array {
  if (r.chance(0.4)) {
    const [area, sub] = r.pick(CAPS);
    return getCapability(area, sub());
  }
  if (r.chance(0.3)) return getCapability(TPM_CAP.ORD, u32(r.chance(0.5) ? r.int(0x110) : r.u32()));
  if (r.chance(0.3)) return getCapability(TPM_CAP.PROPERTY, u32(0x100 + r.int(0x30)));
  const area = r.int(0x1c);
  // not TPM_CAP_MFR/PROCESS_ID: its answer is swtpm's pid
  const sub = r.pick([new Uint8Array(0), u16(r.int(12)), u32(r.int(12)), r.bytes(r.int(8))]);
  if (area === TPM_CAP.MFR) return getCapability(area, u32(0x21));
  return getCapability(area, sub);
}

function unknownOrdinal(r: Prng): number {
  for (;;) {
    const o = r.chance(0.5) ? r.int(0x120) : r.u32();
    if (!LIBTPMS_ORDINALS.has(o) && o !== SWTPM_SET_LOCALITY) return o;
  }
}

/** A well-formed command of any supported kind (before mangling). */
function wellFormed(r: Prng): Uint8Array {
  switch (r.int(16)) {
    case 0:
    case 1:
    case 12:
      return extend(pcrIndex(r), r.bytes(20));
    case 13:
      return pcrRead(pcrIndex(r));
    case 2:
      return pcrRead(pcrIndex(r));
    case 3:
      return selection(r);
    case 4:
    case 5:
      return sha1Command(r);
    case 6:
      return capability(r);
    case 7:
      if (r.chance(0.5)) {
        const pp = r.pick([0x0020, 0x0008, 0x0010, 0x0014, 0x0004, 0x0100, 0x0040, 0x0200, 0x0080, 0x0028, 0x0001, 0x0000]);
        return cmd(TPM_ORD.TSC_PhysicalPresence, u16(r.chance(0.9) ? pp : r.int(0x10000)));
      }
      return getTestResult();
    case 8:
      return cmd(r.pick([TPM_ORD.SelfTestFull, TPM_ORD.ContinueSelfTest, TPM_ORD.SaveState, TPM_ORD.TSC_ResetEstablishmentBit, TPM_ORD.Init]));
    case 9:
      if (r.chance(0.7)) return selection(r);
      return startup(r.pick([TPM_ST.CLEAR, TPM_ST.CLEAR, TPM_ST.STATE, TPM_ST.DEACTIVATED, 0, 4]));
    case 10:
      return cmd(unknownOrdinal(r), r.bytes(r.int(8)), r.pick([TPM_TAG.RQU_COMMAND, TPM_TAG.RQU_AUTH1_COMMAND, TPM_TAG.RQU_AUTH2_COMMAND, 0x00c4, 0]));
    default:
      return sha1Command(r);
  }
}

/** Malformations: wrong paramSize, truncation, trailing bytes, bad tag. Stays ≥ 10 and ≤ 4096 bytes. */
function mangle(r: Prng, c: Uint8Array): Uint8Array {
  const ordinal = c.subarray(6, 10);
  const ord = ((ordinal[0] ?? 0) << 24) | ((ordinal[1] ?? 0) << 16) | ((ordinal[2] ?? 0) << 8) | (ordinal[3] ?? 0);
  const body = c.subarray(10);
  switch (r.int(4)) {
    case 0: // paramSize field lies
      return rawCmd(TPM_TAG.RQU_COMMAND, r.pick([0, 9, c.length - 1, c.length + 1, 0xffffffff, r.u32()]), ord >>> 0, body);
    case 1: // truncated body, consistent paramSize
      return cmd(ord >>> 0, body.subarray(0, r.int(body.length + 1)));
    case 2: // trailing bytes
      return cmd(ord >>> 0, cat(body, r.bytes(1 + r.int(Math.min(16, MAX_WIRE - c.length)))));
    default:
      return cmd(ord >>> 0, body, r.pick([TPM_TAG.RQU_AUTH1_COMMAND, TPM_TAG.RQU_AUTH2_COMMAND, TPM_TAG.RSP_COMMAND, 0x0000, 0xffff]));
  }
}

function commandStep(r: Prng): Step {
  let bytes = wellFormed(r);
  if (r.chance(0.15) && bytes.length < MAX_WIRE - 16) bytes = mangle(r, bytes);
  const locality = r.chance(0.5) ? 0 : r.locality();
  const isRandom = r.chance(0.03);
  if (isRandom) return { kind: 'cmd', locality, bytes: getRandom(r.pick([0, 1, 20, 4082, 5000])), compare: 'headerAndSize' };
  return { kind: 'cmd', locality, bytes };
}

/** A SHA-1 thread as a driver runs it, with occasional bad sizes and interleaved commands. */
function sha1Sequence(r: Prng, locality: Locality): Step[] {
  const steps: Step[] = [{ kind: 'cmd', locality, bytes: sha1Start() }];
  const updates = r.int(4);
  for (let i = 0; i < updates; i++) {
    if (r.chance(0.1)) steps.push(commandStep(r));
    steps.push({ kind: 'cmd', locality, bytes: sha1Update(r.bytes(r.chance(0.85) ? 64 * r.pick([1, 2, 16, 63]) : r.pick([0, 1, 63, 65]))) });
  }
  const last = r.bytes(r.chance(0.9) ? r.int(65) : 65 + r.int(8));
  steps.push({
    kind: 'cmd',
    locality: r.chance(0.8) ? locality : r.locality(),
    bytes: r.chance(0.5) ? sha1Complete(last) : sha1CompleteExtend(r.chance(0.7) ? r.pick([17, 18, 19, 20, 10]) : pcrIndex(r), last),
  });
  return steps;
}

/** TPM_SaveState, TPM_Init, TPM_Startup(ST_STATE) — sometimes with a command in between. */
function saveRestore(r: Prng): Step[] {
  const steps: Step[] = [{ kind: 'cmd', locality: 0, bytes: cmd(TPM_ORD.SaveState) }];
  if (r.chance(0.3)) steps.push(commandStep(r));
  steps.push({ kind: 'init' });
  if (r.chance(0.3)) steps.push(commandStep(r));
  steps.push({ kind: 'cmd', locality: 0, bytes: startup(TPM_ST.STATE) });
  return steps;
}

function initAndStartup(r: Prng): Step[] {
  const steps: Step[] = [{ kind: 'init' }];
  if (r.chance(0.85)) steps.push({ kind: 'cmd', locality: 0, bytes: startup(r.chance(0.85) ? TPM_ST.CLEAR : r.pick([TPM_ST.STATE, TPM_ST.DEACTIVATED, 0])) });
  return steps;
}

/** What the generator knows of the TPM: read from a shadow engine fed the same steps. */
export interface ShadowView {
  readonly postInitialise: boolean;
  readonly failureMode: boolean;
  readonly deactivated: boolean;
}

/** One or more steps; DRTM, init and established-flag operations mixed into command traffic. */
export function randomSteps(r: Prng, view: ShadowView): Step[] {
  // Failure mode, post-init and deactivated states are sticky: leave them often enough that
  // most traffic exercises a running TPM.
  if ((view.failureMode || view.deactivated) && r.chance(0.25)) return initAndStartup(r);
  if (view.postInitialise && r.chance(0.5)) return [{ kind: 'cmd', locality: 0, bytes: startup(TPM_ST.CLEAR) }];
  const x = r.next();
  if (x < 0.04) return [{ kind: 'drtm', data: r.bytes(r.pick([0, 1, 64, 100, 5000])) }];
  if (x < 0.05) return [r.pick<Step>([{ kind: 'hashStart' }, { kind: 'hashData', data: r.bytes(r.int(200)) }, { kind: 'hashEnd' }])];
  if (x < 0.06) return initAndStartup(r);
  if (x < 0.065) return saveRestore(r);
  if (x < 0.08) return [{ kind: 'resetEstablished', locality: r.locality() }];
  if (x < 0.085) return [{ kind: 'getEstablished' }];
  if (x < 0.16) return sha1Sequence(r, r.chance(0.6) ? 2 : r.locality());
  return [commandStep(r)];
}

export function randomStream(seed: number, steps: number): Step[] {
  const r = new Prng(seed);
  const shadow = createTpm12({ startup: seed % 5 !== 0, random: (n) => new Uint8Array(n) });
  const out: Step[] = [];
  while (out.length < steps) {
    const snap = shadow.snapshot();
    const view = {
      postInitialise: snap.volatile.postInitialise,
      failureMode: snap.volatile.testState === TPM_TEST_STATE.FAILURE,
      deactivated: snap.volatile.stclear.deactivated,
    };
    for (const step of randomSteps(r, view)) {
      applyToEngine(shadow, step);
      out.push(step);
    }
  }
  return out.slice(0, steps);
}
