/**
 * Random Secure Launches for the tests: the blobs, the manifest, and an independent description of
 * what the TPM must be fed (no code from src/launch: the test's own reading of the Xen launch order
 * and rules), plus the swtpm side that feeds it.
 */
import { createHash } from 'node:crypto';
import { HASH_ALGS, type BankName } from '../../src/hash/index.js';
import { TxtContainerLog } from '../../src/eventlog/txt-container.js';
import { Tcg2Log } from '../../src/eventlog/tcg2.js';
import { Swtpm } from '../support/swtpm.js';
import * as C2 from '../tpm2/support/cmd.js';

const NODE: Record<BankName, string> = { sha1: 'sha1', sha256: 'sha256', sha384: 'sha384', sha512: 'sha512', sm3_256: 'sm3' };
const SIZE: Record<BankName, number> = { sha1: 20, sha256: 32, sha384: 48, sha512: 64, sm3_256: 32 };
const ALG: Record<BankName, number> = { sha1: 4, sha256: 0xb, sha384: 0xc, sha512: 0xd, sm3_256: 0x12 };
export const H = (b: BankName, ...d: Uint8Array[]): Buffer => {
  const h = createHash(NODE[b]);
  for (const x of d) h.update(x);
  return h.digest();
};

/** mulberry32: a small seeded PRNG. */
export class Rng {
  constructor(private s: number) {}
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(a: readonly T[]): T {
    return a[Math.floor(this.next() * a.length)] as T;
  }
  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    // Fill 4 bytes at a time from the generator, then stretch with SHA-256 for big blobs.
    if (n <= 4096) {
      for (let i = 0; i < n; i++) b[i] = this.int(0, 255);
      return b;
    }
    const seed = this.bytes(32);
    for (let i = 0, off = 0; off < n; i++, off += 32) createHash('sha256').update(seed).update(String(i)).digest().copy(b, off, 0, Math.min(32, n - off));
    return b;
  }
}

export interface GenEvent {
  pcr: number;
  type: number;
  digests: Partial<Record<BankName, Buffer>>;
  data: Buffer;
}

/** What a launch feeds the TPM, step by step, as the test reads the Xen series. */
export type Op =
  | { op: 'drtm'; data: Buffer }
  | { op: 'noop' }
  | { op: 'extend'; pcr: number; locality: number; digests: Partial<Record<BankName, Buffer>> }
  | { op: 'tpmHash'; pcr: number; data: Buffer };

export interface GenLaunch {
  manifest: Record<string, unknown>;
  parts: Record<string, Buffer>;
  /** One op per predicted step that is not skipped, in order. */
  ops: Op[];
  sinitForm: 'part' | 'events' | 'fromLog';
  intelInfo: 0 | 552 | 560;
  mbiTotal: number;
  mbiLength: number;
  entries: number;
  evtInfoLengths: number[];
}

const TXT_TYPES = [0x401, 0x40a, 0x40b, 0x40c, 0x40f, 0x410, 0x412, 0x413, 0x4ff];

/** Digests Xen's 64-bit path extends for host-hashed data: OneDigest for banks other than SHA-1/SHA-256 under `xen`. */
export function hostExtend(banks: readonly BankName[], compat: 'xen' | 'strict', data: Uint8Array): Partial<Record<BankName, Buffer>> {
  const out: Partial<Record<BankName, Buffer>> = {};
  for (const b of banks) {
    if (compat === 'strict' || b === 'sha1' || b === 'sha256') out[b] = H(b, data);
    else {
      const one = Buffer.alloc(SIZE[b]);
      one[0] = 1;
      out[b] = one;
    }
  }
  return out;
}

function blobSize(r: Rng): number {
  const x = r.next();
  if (x < 0.08) return 0;
  if (x < 0.7) return r.int(1, 4096);
  if (x < 0.93) return r.int(4097, 256 * 1024);
  return r.int(1024 * 1024, 3 * 1024 * 1024);
}

export function genLaunch(seed: number, family: '1.2' | '2.0', banks: readonly BankName[], compat: 'xen' | 'strict', sinitForm: GenLaunch['sinitForm']): GenLaunch {
  const r = new Rng(seed);
  const parts: Record<string, Buffer> = {};
  const ops: Op[] = [];
  const manifest: Record<string, unknown> = { family, compat, ...(family === '2.0' ? { banks } : {}) };
  // 0. SINIT.
  if (sinitForm === 'part') {
    const data = r.bytes(r.next() < 0.1 ? 0 : r.int(1, r.next() < 0.2 ? 65536 : 4096));
    parts['sinit.bin'] = data;
    manifest.sinit = { part: 'sinit.bin' };
    ops.push({ op: 'drtm', data });
  } else {
    const preimage = r.bytes(r.int(0, 2048));
    const first: GenEvent = { pcr: 17, type: 0x402, digests: Object.fromEntries(banks.map((b) => [b, H(b, preimage)])), data: r.bytes(r.int(0, 16)) };
    if (family === '1.2' && r.next() < 0.3) first.digests.sha256 = H('sha256', preimage); // extra banks are ignored by a TPM 1.2
    const events: GenEvent[] = [first];
    ops.push({ op: 'drtm', data: preimage });
    const n = r.int(0, 5);
    for (let i = 0; i < n; i++) {
      if (r.next() < 0.1) {
        events.push({ pcr: r.pick([17, 18]), type: 3, digests: Object.fromEntries(banks.map((b) => [b, Buffer.alloc(SIZE[b])])), data: r.bytes(r.int(0, 24)) });
        ops.push({ op: 'noop' });
        continue;
      }
      const pcr = r.pick([17, 18, 18, 19, 20]);
      const digests = Object.fromEntries(banks.map((b) => [b, H(b, r.bytes(8))])) as Partial<Record<BankName, Buffer>>;
      events.push({ pcr, type: r.pick(TXT_TYPES), digests, data: r.bytes(r.int(0, 40)) });
      ops.push({ op: 'extend', pcr, locality: 3, digests });
    }
    if (sinitForm === 'events') {
      manifest.sinit = {
        events: events.map((e) => ({
          pcr: e.pcr,
          type: e.type,
          digests: Object.fromEntries(Object.entries(e.digests).map(([k, v]) => [k, v.toString('hex')])),
          ...(e.data.length > 0 || r.next() < 0.5 ? { data: e.data.toString('base64') } : {}),
        })),
      };
    } else {
      // A real-looking log: SINIT's records, then Xen's first 0x502 record and more after it (cut off).
      const tail: GenEvent[] = [
        { pcr: 18, type: 0x502, digests: Object.fromEntries(banks.map((b) => [b, H(b, Buffer.from('mbi'))])), data: Buffer.alloc(0) },
        { pcr: 17, type: 0x502, digests: Object.fromEntries(banks.map((b) => [b, H(b, Buffer.from('k'))])), data: Buffer.from('Measured MB2 module') },
      ];
      let bytes: Uint8Array;
      if (family === '1.2') {
        const log = new TxtContainerLog({ size: 65536 });
        for (const e of [...events, ...tail]) log.append({ pcr: e.pcr, type: e.type, digest: e.digests.sha1 as Buffer, data: e.data });
        bytes = log.bytes();
      } else {
        const log = new Tcg2Log({ banks: [...banks], size: 65536 });
        for (const e of [...events, ...tail]) log.append({ pcr: e.pcr, type: e.type, digests: Object.fromEntries(banks.map((b) => [b, e.digests[b] as Buffer])), data: e.data });
        bytes = log.bytes();
      }
      parts['sinit.log'] = Buffer.from(bytes);
      manifest.sinit = { fromLog: 'sinit.log' };
    }
  }
  // 1. MBI: total_size at most the part length, often below it.
  const mbiLength = r.next() < 0.15 ? r.int(8, 300 * 1024) : r.int(8, 4096);
  const mbiTotal = r.next() < 0.3 ? mbiLength : r.int(8, mbiLength);
  const mbi = r.bytes(mbiLength);
  mbi.writeUInt32LE(mbiTotal, 0);
  parts['mbi.bin'] = mbi;
  manifest.mbi = { part: 'mbi.bin' };
  ops.push({ op: 'tpmHash', pcr: 18, data: mbi.subarray(0, mbiTotal) });
  // 2. INTEL_INFO.
  const intelInfo = r.pick([0, 552, 560] as const);
  if (intelInfo) {
    const ii = r.bytes(intelInfo);
    ii.writeUInt32LE(4, 0);
    ii.writeUInt32LE(intelInfo, 4);
    parts['intel-info.bin'] = ii;
    manifest.slrt = { intelInfo: { part: 'intel-info.bin' } };
    const copy = Buffer.from(ii);
    copy.fill(0, 8, intelInfo === 560 ? 24 : 16);
    ops.push({ op: 'extend', pcr: 18, locality: 2, digests: hostExtend(banks, compat, copy) });
  } else ops.push({ op: 'noop' });
  // 3. Entries (a part may be named twice).
  const n = r.int(0, 6);
  const entries: Record<string, unknown>[] = [];
  const evtInfoLengths: number[] = [];
  let budget = 6 * 1024 * 1024;
  for (let i = 0; i < n; i++) {
    let name: string;
    const existing = Object.keys(parts).filter((k) => k.startsWith('mod'));
    if (existing.length > 0 && r.next() < 0.2) name = r.pick(existing);
    else {
      name = `mod${i}.bin`;
      let size = blobSize(r);
      if (size > budget) size = r.int(0, 4096);
      budget -= size;
      parts[name] = r.bytes(size);
    }
    const len = r.pick([0, 31, 32, 40]);
    evtInfoLengths.push(len);
    const evtInfo = Array.from({ length: len }, () => String.fromCharCode(r.int(0x20, 0x7e))).join('');
    const pcr = r.pick([17, 17, 18]);
    const unused = r.next() < 0.05;
    entries.push({ part: name, pcr, ...(len || r.next() < 0.5 ? { evtInfo } : {}), ...(unused ? { entityType: 'unused' } : r.next() < 0.5 ? { entityType: pcr === 17 ? 'multiboot2-module' : 'txt-os2mle' } : {}) });
    ops.push(unused ? { op: 'noop' } : { op: 'extend', pcr, locality: 2, digests: hostExtend(banks, compat, parts[name] as Buffer) });
  }
  manifest.entries = entries;
  return { manifest, parts, ops, sinitForm, intelInfo, mbiTotal, mbiLength, entries: n, evtInfoLengths };
}

const be32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
};
const cmd12 = (ordinal: number, body: Buffer): Buffer => Buffer.concat([Buffer.from([0x00, 0xc1]), be32(10 + body.length), be32(ordinal), body]);
const rc = (r: Uint8Array): number => Buffer.from(r).readUInt32BE(6);

/** swtpm (with the given allocation for TPM 2.0), fed one op at a time. */
export class SwtpmLaunch {
  private constructor(
    readonly tpm: Swtpm,
    readonly family: '1.2' | '2.0',
    readonly banks: readonly BankName[],
  ) {}

  static async start(family: '1.2' | '2.0', banks: readonly BankName[]): Promise<SwtpmLaunch> {
    const tpm = await Swtpm.start({ tpm2: family === '2.0' });
    if (family === '2.0') {
      const want = new Set(banks);
      const sels = HASH_ALGS.filter((a) => a.name !== 'sm3_256').map((a) => ({ hash: a.algId, bits: want.has(a.name) ? Uint8Array.of(0xff, 0xff, 0xff) : new Uint8Array(3) }));
      for (const c of [C2.pcrAllocate(sels), C2.shutdown(0)]) await tpm.send(c);
      await tpm.init();
      await tpm.send(C2.startup(0));
    }
    return new SwtpmLaunch(tpm, family, banks);
  }

  async apply(op: Op): Promise<void> {
    const t = this.tpm;
    if (op.op === 'noop') return;
    if (op.op === 'drtm') {
      const r = await t.drtm(op.data);
      if (r !== 0) throw new Error(`swtpm drtm rc ${r}`);
      return;
    }
    if (op.op === 'extend') {
      await t.setLocality(op.locality);
      const r =
        this.family === '1.2'
          ? await t.send(cmd12(0x14, Buffer.concat([be32(op.pcr), op.digests.sha1 as Buffer])))
          : await t.send(C2.pcrExtend(op.pcr, this.banks.map((b) => ({ alg: ALG[b], digest: op.digests[b] as Buffer }))));
      if (rc(r) !== 0) throw new Error(`swtpm extend rc 0x${rc(r).toString(16)}`);
      return;
    }
    // The seed's early path at locality 2: chunks of up to 1024 bytes (multiples of 64) while more than 64 remain.
    await t.setLocality(2);
    const data = op.data;
    let off = 0;
    if (this.family === '1.2') {
      const start = await t.send(cmd12(0xa0, Buffer.alloc(0)));
      if (rc(start) !== 0) throw new Error('SHA1Start');
      while (data.length - off > 64) {
        const n = Math.min(1024, (data.length - off) & ~63);
        const u = await t.send(cmd12(0xa1, Buffer.concat([be32(n), data.subarray(off, off + n)])));
        if (rc(u) !== 0) throw new Error('SHA1Update');
        off += n;
      }
      const rest = data.subarray(off);
      const fin = await t.send(cmd12(0xa3, Buffer.concat([be32(op.pcr), be32(rest.length), rest])));
      if (rc(fin) !== 0) throw new Error('SHA1CompleteExtend');
      return;
    }
    const start = await t.send(C2.hashSequenceStart(0x10));
    if (rc(start) !== 0) throw new Error('HashSequenceStart');
    const h = Buffer.from(start).readUInt32BE(10);
    while (data.length - off > 64) {
      const n = Math.min(1024, (data.length - off) & ~63);
      const u = await t.send(C2.sequenceUpdate(h, data.subarray(off, off + n)));
      if (rc(u) !== 0) throw new Error('SequenceUpdate');
      off += n;
    }
    const fin = await t.send(C2.eventSequenceComplete(op.pcr, h, data.subarray(off)));
    if (rc(fin) !== 0) throw new Error(`EventSequenceComplete 0x${rc(fin).toString(16)}`);
  }

  /** PCR `pcr` in every bank, hex. */
  async read(pcr: number): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    if (this.family === '1.2') {
      out.sha1 = Buffer.from(await this.tpm.send(cmd12(0x15, be32(pcr)))).subarray(10).toString('hex');
      return out;
    }
    for (const b of this.banks) {
      const r = await this.tpm.send(C2.pcrRead([{ hash: ALG[b], bits: [pcr] }]));
      out[b] = Buffer.from(r).subarray(r.length - SIZE[b]).toString('hex');
    }
    return out;
  }

  stop(): Promise<void> {
    return this.tpm.stop();
  }
}
