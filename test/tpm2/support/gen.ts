/**
 * Deterministic random command streams for the TPM 2.0 differential suite (mulberry32 PRNG).
 * Every stream only uses what swtpm can take over its socket (≥ 10 bytes, no TCG simulator
 * prefix, no swtpm-private TPM2_CC_SET_LOCALITY 0x20001000).
 */
import { BeWriter } from '../../../src/bytes/index.js';
import type { Locality } from '../../../src/tpm/engine.js';
import * as C from './cmd.js';
import type { Op } from './pair.js';

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** TPM_CC values swtpm 0.7.1 / libtpms 0.9.2 implements (GetCapability(TPM_CAP_COMMANDS)); unknown codes avoid them. */
const LIBTPMS_CCS = new Set<number>([
  0x11f, 0x120, 0x121, 0x122, 0x124, 0x125, 0x126, 0x127, 0x128, 0x129, 0x12a, 0x12b, 0x12c, 0x12d, 0x12e, 0x130, 0x131, 0x132,
  0x133, 0x134, 0x135, 0x136, 0x137, 0x138, 0x139, 0x13a, 0x13b, 0x13c, 0x13d, 0x13e, 0x13f, 0x140, 0x142, 0x143, 0x144, 0x145,
  0x146, 0x147, 0x148, 0x149, 0x14a, 0x14b, 0x14c, 0x14d, 0x14e, 0x14f, 0x150, 0x151, 0x152, 0x153, 0x154, 0x155, 0x156, 0x157,
  0x158, 0x159, 0x15b, 0x15c, 0x15d, 0x15e, 0x160, 0x161, 0x162, 0x163, 0x164, 0x165, 0x167, 0x168, 0x169, 0x16a, 0x16b, 0x16c,
  0x16d, 0x16e, 0x16f, 0x170, 0x171, 0x172, 0x173, 0x174, 0x176, 0x177, 0x178, 0x17a, 0x17b, 0x17c, 0x17d, 0x17e, 0x17f, 0x180,
  0x181, 0x182, 0x183, 0x184, 0x185, 0x186, 0x187, 0x188, 0x189, 0x18a, 0x18b, 0x18c, 0x18d, 0x18e, 0x18f, 0x190, 0x191, 0x192,
  0x193, 0x197,
]);
export const SWTPM_SET_LOCALITY = 0x20001000;

export const ALG = { SHA1: 0x0004, SHA256: 0x000b, SHA384: 0x000c, SHA512: 0x000d, NULL: 0x0010, SM3: 0x0012, RSA: 0x0001 } as const;
const SIZE: Record<number, number> = { 4: 20, 11: 32, 12: 48, 13: 64 };

export class Gen {
  readonly r: () => number;
  constructor(seed: number) {
    this.r = mulberry32(seed);
  }
  int(n: number): number {
    return Math.floor(this.r() * n);
  }
  chance(p: number): boolean {
    return this.r() < p;
  }
  pick<T>(xs: readonly T[]): T {
    const v = xs[this.int(xs.length)];
    if (v === undefined) throw new Error('empty pick');
    return v;
  }
  bytes(n: number): Uint8Array {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
  locality(): Locality {
    return this.pick([0, 0, 1, 2, 2, 3, 3, 4] as const);
  }
  pcr(allowNull: boolean): number {
    const x = this.r();
    if (allowNull && x < 0.08) return C.RH_NULL;
    if (x < 0.12) return this.pick([24, 31, 0x40000001, 0x80000000, 0x01000000]);
    if (x < 0.6) return 16 + this.int(8);
    return this.int(24);
  }
  hashAlg(): number {
    const x = this.r();
    if (x < 0.05) return this.pick([ALG.SM3, ALG.RSA, ALG.NULL, 0x0027, 0xffff]);
    return this.pick([ALG.SHA1, ALG.SHA256, ALG.SHA384, ALG.SHA512]);
  }
  /** A session list: usually one good PW session per auth handle, sometimes broken. */
  sessions(n: number, password?: Uint8Array): C.SessionSpec[] {
    const s: C.SessionSpec[] = Array.from({ length: n }, () => ({ ...C.PW, password: password ?? new Uint8Array(0) }));
    if (!this.chance(0.15)) return s;
    const which = this.int(9);
    const i = this.int(Math.max(n, 1));
    const t = s[i] ?? { ...C.PW };
    if (which === 0) t.password = this.bytes(1 + this.int(4));
    else if (which === 1) t.attributes = this.pick([0x20, 0x40, 0x80, 0x02, 0x04, 0x08, 0x10, 0x00]);
    else if (which === 2) t.nonce = this.bytes(1 + this.int(16));
    else if (which === 3) t.handle = this.pick([0x02000000, 0x03000001, 0x40000001, 0x12345678, 0x0200003f]);
    else if (which === 4) s.push({ ...C.PW });
    else if (which === 5) s.pop();
    else if (which === 6) t.password = Uint8Array.of(...(password ?? []), 0, 0);
    else if (which === 7) t.nonce = this.bytes(65);
    else {
      s.push({ ...C.PW }, { ...C.PW }, { ...C.PW });
    }
    if (s.length > 0 && i < s.length) s[i] = t;
    return s;
  }
  digests(): { alg: number; digest: Uint8Array }[] {
    const n = this.chance(0.05) ? 5 : this.int(5);
    const out: { alg: number; digest: Uint8Array }[] = [];
    for (let i = 0; i < n; i++) {
      const alg = this.hashAlg();
      out.push({ alg, digest: this.bytes(SIZE[alg] ?? 0) });
    }
    return out;
  }
  selections(): C.Sel[] {
    const n = this.chance(0.05) ? 5 : 1 + this.int(4);
    const out: C.Sel[] = [];
    for (let i = 0; i < n; i++) {
      const full = this.chance(0.3);
      out.push({
        hash: this.chance(0.05) ? this.pick([ALG.SM3, ALG.NULL, ALG.RSA]) : this.pick([ALG.SHA1, ALG.SHA256, ALG.SHA384, ALG.SHA512]),
        bits: full ? Uint8Array.of(0xff, 0xff, 0xff, 0xff) : this.bytes(4).map((b) => b & this.int(256) & this.int(256)),
        sizeofSelect: this.chance(0.04) ? this.pick([0, 1, 2, 4]) : 3,
      });
    }
    return out;
  }
  data(max: number): Uint8Array {
    const x = this.r();
    if (x < 0.05) return C.params((w) => w.u32(0xff544347).bytes(this.bytes(this.int(8))));
    if (x < 0.08) return this.bytes(max + 1);
    return this.bytes(this.int(max < 200 ? max : 200));
  }
}

/** Damage a well-formed command: bad tag, wrong commandSize, truncation, trailing bytes, bad authSize. */
export function malform(g: Gen, c: Uint8Array): Uint8Array {
  const out = new BeWriter().bytes(c).finish();
  const kind = g.int(6);
  if (kind === 0) {
    const tag = g.pick([0x8000, 0x8003, 0x00c4, 0x8024, 0x1234, 0xc101, 0x8014]);
    out[0] = tag >> 8;
    out[1] = tag & 0xff;
    return out;
  }
  if (kind === 1) {
    const v = c.length + g.pick([-3, -1, 1, 7, 5000]);
    out[2] = (v >>> 24) & 0xff;
    out[3] = (v >>> 16) & 0xff;
    out[4] = (v >>> 8) & 0xff;
    out[5] = v & 0xff;
    return out;
  }
  if (kind === 2 && c.length > 11) {
    const t = out.slice(0, 10 + g.int(c.length - 10));
    t[2] = 0;
    t[3] = 0;
    t[4] = (t.length >> 8) & 0xff;
    t[5] = t.length & 0xff;
    return t;
  }
  if (kind === 3) {
    const t = C.params((w) => w.bytes(c).bytes(g.bytes(1 + g.int(4))));
    t[5] = t.length & 0xff;
    t[4] = (t.length >> 8) & 0xff;
    return t;
  }
  if (kind === 4 && c.length >= 14 && c[0] === 0x80 && c[1] === 0x02) {
    // corrupt a byte somewhere after the header
    const i = 10 + g.int(c.length - 10);
    out[i] = g.int(256);
    return out;
  }
  return out;
}

export function unknownCommand(g: Gen): Uint8Array {
  let cc: number;
  do cc = g.pick([0x100 + g.int(0x100), 0x200 + g.int(0x1000), 0x20000000 + g.int(0x10), g.int(0x11f)]);
  while (LIBTPMS_CCS.has(cc) || cc === SWTPM_SET_LOCALITY);
  return C.cmd({ cc, params: g.bytes(g.int(8)) });
}

/** Next step of a random stream (weights sum to 100). */
export function randomOp(g: Gen): Op {
  const x = g.int(100);
  const loc = g.locality();
  const c = (bytes: Uint8Array, locality: Locality = loc): Op => ({ op: 'cmd', bytes, locality });
  const seqHandle = (): number => (g.chance(0.9) ? 0x80000000 + g.int(3) : g.pick([0x80000003, 0x81000000, 0x40000007, 0x01000000]));
  if (x < 18) return c(C.pcrExtend(g.pcr(true), g.digests(), g.sessions(1)));
  if (x < 24) return c(C.pcrEvent(g.pcr(true), g.data(1024), g.sessions(1)));
  if (x < 30) return c(C.pcrReset(g.pcr(false), g.sessions(1)));
  if (x < 42) return c(C.pcrRead(g.selections()));
  if (x < 50) {
    const auth = g.chance(0.7) ? new Uint8Array(0) : g.pick<Uint8Array>([Uint8Array.of(1), Uint8Array.of(1, 0), g.bytes(65)]);
    return c(C.hashSequenceStart(g.chance(0.4) ? ALG.NULL : g.hashAlg(), auth));
  }
  if (x < 58) return c(C.sequenceUpdate(seqHandle(), g.data(1024), g.sessions(1)));
  if (x < 62) return c(C.sequenceComplete(seqHandle(), g.data(1024), g.chance(0.8) ? C.RH_NULL : g.pick([C.RH_OWNER, C.RH_PLATFORM, 0x4000000b, 0x40000002]), g.sessions(1)));
  if (x < 68) return c(C.eventSequenceComplete(g.pcr(true), seqHandle(), g.data(1024), g.sessions(2)));
  if (x < 71) return c(C.flushContext(g.chance(0.8) ? seqHandle() : g.pick([0x02000000, 0x03000000, 0x40000001, 0x80000004])));
  if (x < 73) return c(C.hash(g.data(1024), g.hashAlg(), g.chance(0.7) ? C.RH_NULL : g.pick([C.RH_OWNER, 0x4000000b, 0x40000002])));
  if (x < 75) return c(unknownCommand(g));
  if (x < 80) {
    const base = g.pick([C.pcrExtend(g.pcr(true), g.digests()), C.pcrRead(g.selections()), C.hashSequenceStart(ALG.SHA256), C.eventSequenceComplete(17, 0x80000000, g.bytes(3)), C.getCap(5, 0, 1)]);
    return c(malform(g, base));
  }
  if (x < 84) return g.pick<Op>([{ op: 'hashStart' }, { op: 'hashData', data: g.bytes(g.int(300)) }, { op: 'hashEnd' }, { op: 'hashEnd' }]);
  if (x < 87) {
    const cap = g.pick([
      () => C.getCap(5, g.chance(0.9) ? 0 : 1, g.int(3)),
      () => C.getCap(7, g.int(0x16), g.int(20)),
      () => C.getCap(6, 0x200 + g.int(0x16), g.int(30)),
      () => C.getCap(1, g.pick([0x80000000, 0x80000001, 0x00000000, 0x00000010, 0x40000000, 0x81000000, 0x02000000, 0x05000000]), g.int(30)),
      () => C.getCap(0, g.int(0x50), g.int(40)),
      () => C.getCap(g.pick([0x0b, 0x100, 0xffffffff, 3, 4, 8]), 0, 10),
    ]);
    return c(cap());
  }
  if (x < 89) return c(C.getRandom(g.int(100)));
  if (x < 91) return g.chance(0.5) ? { op: 'resetEstablished', locality: g.locality() } : { op: 'getEstablished' };
  if (x < 93) return c(g.chance(0.5) ? C.selfTest(g.pick([0, 1, 2])) : C.getTestResult());
  if (x < 95) return c(C.startup(g.pick([0, 1, 2])), g.pick([0, 3, 2] as const));
  // raw PCR_Extend with tag 0x8001 (AUTH_MISSING) or authSize trouble
  if (x < 98) {
    const bad = g.pick([
      () => C.cmd({ cc: 0x182, handles: [17], params: C.params((w) => w.u32(0)) }),
      () => C.cmd({ cc: 0x182, handles: [17], sessions: [C.PW], authSize: g.pick([0, 8, 10, 200]), params: C.params((w) => w.u32(0)) }),
      () => C.cmd({ cc: 0x165, sessions: [C.PW], params: C.params((w) => w.u32(0x80000000)) }),
      () => C.cmd({ cc: 0x17e, sessions: [C.PW], params: C.params(C.selectionList([{ hash: ALG.SHA1, bits: [0] }])) }),
    ]);
    return c(bad());
  }
  return c(C.pcrExtend(g.pcr(true), g.digests(), g.sessions(1)), g.pick([2, 3, 4] as const));
}

/** A random PCR allocation request: usually keeps PCR 0 and 17 somewhere (else TPM_RC_PCR). */
export function randomAllocation(g: Gen): C.Sel[] {
  const algs = [ALG.SHA1, ALG.SHA256, ALG.SHA384, ALG.SHA512].filter(() => g.chance(0.7));
  return algs.map((hash) => ({ hash, bits: g.chance(0.6) ? Uint8Array.of(0xff, 0xff, 0xff) : g.chance(0.5) ? new Uint8Array(3) : g.bytes(3) }));
}

/**
 * Power-cycle flows (Part 3 §9): Shutdown(CLEAR/STATE) → _TPM_Init → Startup at
 * locality 0/3 (2 is refused), optional PCR_Allocate before it, optional H-CRTM before Startup.
 */
export function lifecycleOps(g: Gen): Op[] {
  const ops: Op[] = [];
  if (g.chance(0.3)) ops.push({ op: 'cmd', bytes: C.pcrAllocate(randomAllocation(g), g.sessions(1)), locality: 0 });
  if (g.chance(0.8)) ops.push({ op: 'cmd', bytes: C.shutdown(g.pick([0, 1, 1, 2])), locality: 0 });
  if (g.chance(0.2)) ops.push({ op: 'cmd', bytes: C.pcrExtend(g.int(24), [{ alg: ALG.SHA256, digest: g.bytes(32) }]), locality: 3 });
  ops.push({ op: 'init' });
  if (g.chance(0.2)) ops.push({ op: 'cmd', bytes: C.pcrRead([{ hash: ALG.SHA1, bits: [0] }]), locality: 0 });
  if (g.chance(0.25)) {
    ops.push({ op: 'hashStart' }, { op: 'hashData', data: g.bytes(g.int(100)) }, { op: 'hashEnd' });
  }
  const loc = g.pick([0, 0, 3, 3, 2] as const);
  ops.push({ op: 'cmd', bytes: C.startup(g.pick([0, 1, 1])), locality: loc });
  if (g.chance(0.5)) ops.push({ op: 'cmd', bytes: C.startup(0), locality: 0 });
  ops.push({ op: 'cmd', bytes: C.pcrRead([{ hash: ALG.SHA1, bits: [0, 1, 16, 17] }, { hash: ALG.SHA256, bits: [0, 17] }]), locality: 0 });
  ops.push({ op: 'cmd', bytes: C.getCap(6, 0x201, 1), locality: 0 });
  return ops;
}

/** Next steps: usually one op, sometimes a power-cycle flow. */
export function randomOps(g: Gen): Op[] {
  if (g.chance(0.025)) return lifecycleOps(g);
  if (g.chance(0.02)) return [{ op: 'hashStart' }, { op: 'hashData', data: g.bytes(g.int(5000)) }, { op: 'hashEnd' }];
  return [randomOp(g)];
}
