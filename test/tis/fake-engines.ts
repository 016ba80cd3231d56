/**
 * Tiny stand-in TPM engines for the TIS tests, implementing only what the drivers send
 * (TPM 1.2: TPM Main Part 3 §13, §16 and the HASH_* cycles; TPM 2.0: Part 3 §17, §22 and _TPM_Hash_*). Not a TPM: just enough to exercise the
 * FIFO with real command/response framing and the same digests a TPM would compute.
 */
import { BeWriter, u16be, u32be } from '../../src/bytes/index.js';
import { extendValue, sha1, digest, type BankName } from '../../src/hash/index.js';
import type { Locality, TpmEngine, TpmFamily } from '../../src/tpm/engine.js';
import { createHash, type Hash } from 'node:crypto';

const RC12 = { SUCCESS: 0, BADINDEX: 0x02, BAD_ORDINAL: 0x0a, BAD_PARAM_SIZE: 0x19, SHA_THREAD: 0x1a, SHA_ERROR: 0x1b, BADTAG: 0x1e, INVALID_POSTINIT: 0x26 } as const;
const ORD = { Extend: 0x14, PcrRead: 0x15, ContinueSelfTest: 0x53, Startup: 0x99, SHA1Start: 0xa0, SHA1Update: 0xa1, SHA1CompleteExtend: 0xa3 } as const;

function rsp12(rc: number, body: Uint8Array = new Uint8Array(0)): Uint8Array {
  const w = new BeWriter().u16(0x00c4).u32(10 + body.length).u32(rc).bytes(body);
  return w.finish();
}

/** Fake TPM 1.2: Startup, PcrRead, Extend, SHA1Start/Update/CompleteExtend, ContinueSelfTest, HASH_*. */
export class FakeTpm12 implements TpmEngine {
  readonly family: TpmFamily = '1.2';
  readonly bufferSize: number;
  established = false;
  started = false;
  executed = 0;
  readonly pcr: Uint8Array[] = Array.from({ length: 24 }, (_, i) => new Uint8Array(20).fill(i >= 17 && i <= 22 ? 0xff : 0));
  private thread: Hash | null = null;
  private drtm: Hash | null = null;
  readonly maxNumBytes: number;

  constructor(opts: { bufferSize?: number; maxNumBytes?: number; startup?: boolean } = {}) {
    this.bufferSize = opts.bufferSize ?? 4096;
    this.maxNumBytes = opts.maxNumBytes ?? this.bufferSize - 64;
    this.started = opts.startup ?? true;
  }

  execute(cmd: Uint8Array, _locality: Locality): Uint8Array {
    this.executed++;
    if (cmd.length < 10) return rsp12(RC12.BAD_PARAM_SIZE);
    if (u16be(cmd, 0) !== 0x00c1) return rsp12(RC12.BADTAG);
    if (u32be(cmd, 2) !== cmd.length) return rsp12(RC12.BAD_PARAM_SIZE);
    const ord = u32be(cmd, 6);
    if (ord !== ORD.SHA1Update && ord !== ORD.SHA1CompleteExtend) this.thread = null;
    if (!this.started && ord !== ORD.Startup) return rsp12(RC12.INVALID_POSTINIT);
    switch (ord) {
      case ORD.Startup:
        if (this.started) return rsp12(RC12.INVALID_POSTINIT);
        this.started = true;
        return rsp12(0);
      case ORD.ContinueSelfTest:
        return rsp12(0);
      case ORD.PcrRead: {
        const i = u32be(cmd, 10);
        const p = this.pcr[i];
        return p && cmd.length === 14 ? rsp12(0, p) : rsp12(RC12.BADINDEX);
      }
      case ORD.Extend: {
        if (cmd.length !== 34) return rsp12(RC12.BAD_PARAM_SIZE);
        const i = u32be(cmd, 10);
        const p = this.pcr[i];
        if (!p) return rsp12(RC12.BADINDEX);
        this.pcr[i] = extendValue('sha1', p, cmd.subarray(14, 34));
        return rsp12(0, this.pcr[i]);
      }
      case ORD.SHA1Start: {
        this.thread = createHash('sha1');
        return rsp12(0, new BeWriter().u32(this.maxNumBytes).finish());
      }
      case ORD.SHA1Update: {
        const t = this.thread;
        if (!t) return rsp12(RC12.SHA_THREAD);
        const n = u32be(cmd, 10);
        if (cmd.length !== 14 + n) return rsp12(RC12.BAD_PARAM_SIZE);
        if (n % 64 !== 0 || n > this.maxNumBytes) {
          this.thread = null;
          return rsp12(RC12.SHA_ERROR);
        }
        t.update(cmd.subarray(14));
        return rsp12(0);
      }
      case ORD.SHA1CompleteExtend: {
        const t = this.thread;
        this.thread = null;
        if (!t) return rsp12(RC12.SHA_THREAD);
        const i = u32be(cmd, 10);
        const n = u32be(cmd, 14);
        if (cmd.length !== 18 + n) return rsp12(RC12.BAD_PARAM_SIZE);
        if (n > 64) return rsp12(RC12.SHA_ERROR);
        t.update(cmd.subarray(18));
        const h = new Uint8Array(t.digest());
        const p = this.pcr[i];
        if (!p) return rsp12(RC12.BADINDEX);
        this.pcr[i] = extendValue('sha1', p, h);
        return rsp12(0, new BeWriter().bytes(h).bytes(this.pcr[i]).finish());
      }
      default:
        return rsp12(RC12.BAD_ORDINAL);
    }
  }
  hashStart(): number {
    this.established = true;
    for (let i = 17; i <= 22; i++) this.pcr[i] = new Uint8Array(20);
    this.drtm = createHash('sha1');
    return 0;
  }
  hashData(data: Uint8Array): number {
    if (!this.drtm) return RC12.SHA_THREAD;
    this.drtm.update(data);
    return 0;
  }
  hashEnd(): number {
    if (!this.drtm) return RC12.SHA_THREAD;
    this.pcr[17] = extendValue('sha1', new Uint8Array(20), new Uint8Array(this.drtm.digest()));
    this.drtm = null;
    return 0;
  }
  resetEstablishment(locality: Locality): number {
    if (locality !== 3 && locality !== 4) return 0x3d;
    this.established = false;
    return 0;
  }
  init(): void {
    this.started = false;
  }
  pcrs(): Partial<Record<BankName, Uint8Array[]>> {
    return { sha1: this.pcr.map((p) => p.slice()) };
  }
  banks(): BankName[] {
    return ['sha1'];
  }
  snapshot(): unknown {
    return { pcr: this.pcr.map((p) => Buffer.from(p).toString('hex')) };
  }
}

const RC2 = { SUCCESS: 0, BAD_TAG: 0x1e, INITIALIZE: 0x100, COMMAND_SIZE: 0x142, COMMAND_CODE: 0x143, HANDLE_1: 0x18b, VALUE_P1: 0x1c4, SIZE_P1: 0x1d5, OBJECT_MEMORY: 0x902, MODE_P1: 0x189 } as const;
const CC = { Startup: 0x144, SelfTest: 0x143, FlushContext: 0x165, SequenceUpdate: 0x15c, EventSequenceComplete: 0x185, HashSequenceStart: 0x186 } as const;
const BANKS2: readonly { name: BankName; alg: number }[] = [
  { name: 'sha1', alg: 0x0004 },
  { name: 'sha256', alg: 0x000b },
];

function err2(rc: number): Uint8Array {
  return new BeWriter().u16(0x8001).u32(10).u32(rc).finish();
}
function ok2(params: Uint8Array, sessions: number): Uint8Array {
  const w = new BeWriter().u16(sessions > 0 ? 0x8002 : 0x8001).u32(0).u32(0);
  if (sessions > 0) w.u32(params.length);
  w.bytes(params);
  for (let i = 0; i < sessions; i++) w.u16(0).u8(0).u16(0);
  return w.patchU32(2, w.length).finish();
}

/** Fake TPM 2.0 with SHA-1 and SHA-256 banks: Startup, SelfTest, HashSequenceStart(NULL), SequenceUpdate, EventSequenceComplete, FlushContext. */
export class FakeTpm2 implements TpmEngine {
  readonly family: TpmFamily = '2.0';
  readonly bufferSize = 4096;
  established = false;
  started = true;
  readonly pcr: Record<'sha1' | 'sha256', Uint8Array[]> = {
    sha1: Array.from({ length: 24 }, () => new Uint8Array(20)),
    sha256: Array.from({ length: 24 }, () => new Uint8Array(32)),
  };
  private seqs = new Map<number, Hash[]>();
  private nextHandle = 0x80000000;

  execute(cmd: Uint8Array, _locality: Locality): Uint8Array {
    if (cmd.length < 10 || u32be(cmd, 2) !== cmd.length) return err2(RC2.COMMAND_SIZE);
    const tag = u16be(cmd, 0);
    if (tag !== 0x8001 && tag !== 0x8002) return err2(RC2.BAD_TAG);
    const cc = u32be(cmd, 6);
    switch (cc) {
      case CC.Startup:
        return ok2(new Uint8Array(0), 0);
      case CC.SelfTest:
        return ok2(new Uint8Array(0), 0);
      case CC.HashSequenceStart: {
        if (cmd.length < 14) return err2(RC2.COMMAND_SIZE);
        const authLen = u16be(cmd, 10);
        if (cmd.length !== 14 + authLen) return err2(RC2.COMMAND_SIZE);
        if (u16be(cmd, 12 + authLen) !== 0x0010) return err2(RC2.VALUE_P1);
        if (this.seqs.size >= 3) return err2(RC2.OBJECT_MEMORY);
        const h = this.nextHandle++;
        this.seqs.set(h, BANKS2.map((b) => createHash(b.name)));
        return ok2(new BeWriter().u32(h).finish(), 0);
      }
      case CC.FlushContext: {
        if (cmd.length !== 14) return err2(RC2.COMMAND_SIZE);
        return this.seqs.delete(u32be(cmd, 10)) ? ok2(new Uint8Array(0), 0) : err2(RC2.HANDLE_1);
      }
      case CC.SequenceUpdate:
      case CC.EventSequenceComplete: {
        const nHandles = cc === CC.SequenceUpdate ? 1 : 2;
        const hOff = 10;
        const authOff = hOff + 4 * nHandles;
        if (tag !== 0x8002 || cmd.length < authOff + 4) return err2(RC2.COMMAND_SIZE);
        const seqHandle = u32be(cmd, authOff - 4);
        const pOff = authOff + 4 + u32be(cmd, authOff);
        if (pOff + 2 > cmd.length) return err2(RC2.COMMAND_SIZE);
        const n = u16be(cmd, pOff);
        if (n > 1024) return err2(RC2.SIZE_P1);
        if (pOff + 2 + n !== cmd.length) return err2(RC2.COMMAND_SIZE);
        const seq = this.seqs.get(seqHandle);
        if (!seq) return err2(cc === CC.SequenceUpdate ? RC2.HANDLE_1 : 0x28b);
        const data = cmd.subarray(pOff + 2);
        for (const h of seq) h.update(data);
        if (cc === CC.SequenceUpdate) return ok2(new Uint8Array(0), 1);
        const pcr = u32be(cmd, hOff);
        this.seqs.delete(seqHandle);
        const w = new BeWriter().u32(BANKS2.length);
        BANKS2.forEach((b, i) => {
          const d = new Uint8Array(seq[i]?.digest() ?? new Uint8Array(0));
          w.u16(b.alg).bytes(d);
          if (pcr < 24) {
            const bank = this.pcr[b.name as 'sha1' | 'sha256'];
            bank[pcr] = extendValue(b.name, bank[pcr] ?? new Uint8Array(0), d);
          }
        });
        return ok2(w.finish(), 2);
      }
      default:
        return err2(RC2.COMMAND_CODE);
    }
  }
  hashStart(): number {
    this.established = true;
    return 0;
  }
  hashData(_data: Uint8Array): number {
    return 0;
  }
  hashEnd(): number {
    return 0;
  }
  resetEstablishment(locality: Locality): number {
    if (locality !== 3 && locality !== 4) return 0x907;
    this.established = false;
    return 0;
  }
  init(): void {}
  pcrs(): Partial<Record<BankName, Uint8Array[]>> {
    return { sha1: this.pcr.sha1.map((p) => p.slice()), sha256: this.pcr.sha256.map((p) => p.slice()) };
  }
  banks(): BankName[] {
    return ['sha1', 'sha256'];
  }
  snapshot(): unknown {
    return {};
  }
}

export { sha1, digest };
