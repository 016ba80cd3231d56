/**
 * Drivers end to end through the FIFO against the real engines (src/tpm12, src/tpm2): the seed's
 * early TPM 1.2 MBI measurement (Xen slaunch patch 11/21; docs/tpm-quirks.md#seed-fifo-driver), the
 * careful driver and the `hashing=tpm` stream helpers (TPM 1.2 SHA-1 thread, TPM 2.0 event sequence),
 * compared with host hashing.
 */
import { TPM_RC12 } from '../../src/tpm12/index.js';
import { describe, expect, it } from 'vitest';
import { digest, extendValue, sha1 } from '../../src/hash/index.js';
import {
  CarefulDriver,
  FifoEventSequenceExtend,
  FifoSha1Extend,
  fifoEventSequenceExtend,
  fifoEventSequenceExtendStream,
  fifoSha1Extend,
  fifoSha1ExtendStream,
  seedExtendMbi12,
  SEED_EARLY_BUFFER_12,
  TisTimeoutError,
  tpm12Commands,
} from '../../src/drivers/index.js';
import { TIS_ACCESS, TIS_REG, TisDevice, type TisProfile } from '../../src/tis/index.js';
import { FakeTpm12 } from './fake-engines.js';
import { REG, realEngine } from './support.js';

export const BLOB_SIZES = [0, 1, 8, 63, 64, 65, 127, 128, 129, 1023, 1024, 1088, 1089, 4032, 4097, 5000];
export function blob(n: number, seed = 1): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed * 2654435761;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}
function splits(data: Uint8Array, sizes: number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let off = 0;
  for (let i = 0; off < data.length; i++) {
    const n = sizes[i % sizes.length] ?? 1;
    out.push(data.subarray(off, off + n));
    off += n;
  }
  return out;
}
const PROFILES_12: TisProfile[] = ['tis-1.2', 'tis-1.3'];

describe('seed driver: Xen early TPM 1.2 MBI measurement (SHA1Start/Update/CompleteExtend)', () => {
  for (const profile of PROFILES_12) {
    for (const n of BLOB_SIZES) {
      it(`${profile}, ${n} bytes: digest and PCR 18 equal host hashing`, () => {
        const engine = realEngine('1.2');
        const d = new TisDevice(engine, { profile });
        const data = blob(n, n);
        const before = engine.pcrs().sha1?.[18];
        const r = seedExtendMbi12(d, data);
        expect(r.hashValue).toEqual(sha1(data));
        expect(r.oSize).toBe(SEED_EARLY_BUFFER_12); // the over-reading receive loop fills its buffer
        expect(r.ignoredReturnCode).toBe(0);
        expect(engine.pcrs().sha1?.[18]).toEqual(extendValue('sha1', before ?? new Uint8Array(20), sha1(data)));
        expect(d.state().activeLocality).toBeNull();
      });
    }
  }

  it('Xen chunking: 1088 → Update(1024) + Complete(64); 128 → Update(128) + Complete(0) (seed chunking)', () => {
    for (const [n, commands] of [
      [1088, 3],
      [128, 3],
      [64, 2],
      [5000, 2 + 5],
    ] as const) {
      const r = seedExtendMbi12(new TisDevice(realEngine('1.2')), blob(n));
      expect(r.commands, `${n}`).toBe(commands);
    }
  });

  it('register accesses are the seed\'s: 8-bit only, ACCESS/STS/DATA_FIFO of locality 2, no burstCount reads, buffer-filling receive', () => {
    const d = new TisDevice(realEngine('1.2'));
    const seen: { offset: number; size: number; write: boolean }[] = [];
    const bus = {
      read: (offset: number, size: 1 | 2 | 4) => (seen.push({ offset, size, write: false }), d.read(offset, size)),
      write: (offset: number, size: 1 | 2 | 4, v: number) => (seen.push({ offset, size, write: true }), d.write(offset, size, v)),
    };
    seedExtendMbi12(bus, blob(100));
    expect(new Set(seen.map((a) => a.size))).toEqual(new Set([1]));
    expect(new Set(seen.map((a) => a.offset))).toEqual(new Set([REG(2, TIS_REG.ACCESS), REG(2, TIS_REG.STS), REG(2, TIS_REG.DATA_FIFO)]));
    const fifoReads = seen.filter((a) => !a.write && a.offset === REG(2, TIS_REG.DATA_FIFO)).length;
    expect(fifoReads).toBe(3 * SEED_EARLY_BUFFER_12); // SHA1Start, one Update, CompleteExtend
  });

  it('a TPM error goes unnoticed: hashValue is 20 × 0xFF read past the 10-byte error (FIFO over-read)', () => {
    const engine = realEngine('1.2');
    const r = seedExtendMbi12(new TisDevice(engine), blob(100), 24);
    expect(r.hashValue).toEqual(new Uint8Array(20).fill(0xff));
    expect(r.ignoredReturnCode).not.toBe(0);
    expect(r.oSize).toBe(SEED_EARLY_BUFFER_12);
  });

  it('maxNumBytes 0 would hang Xen: bounded, throws TisTimeoutError (Xen trusts maxNumBytes)', () => {
    expect(() => seedExtendMbi12(new TisDevice(new FakeTpm12({ maxNumBytes: 0 })), blob(200))).toThrow(TisTimeoutError);
    expect(seedExtendMbi12(new TisDevice(new FakeTpm12({ maxNumBytes: 0 })), blob(64)).hashValue).toEqual(sha1(blob(64)));
  });

  it('requesting a locality another one holds spins to the cap and throws (Xen would hang: no timeout on request_locality)', () => {
    const d = new TisDevice(realEngine('1.2'));
    d.write(REG(3, TIS_REG.ACCESS), 1, TIS_ACCESS.REQUEST_USE);
    expect(() => seedExtendMbi12(d, blob(10), 18, 2, 1000)).toThrow(TisTimeoutError);
  });
});

describe('careful driver, TPM 1.2 SHA1Start/Update/CompleteExtend stream (TPM Main Part 3 §13)', () => {
  for (const profile of PROFILES_12) {
    for (const n of BLOB_SIZES) {
      it(`${profile}, ${n} bytes in uneven chunks`, () => {
        const engine = realEngine('1.2');
        const d = new TisDevice(engine, { profile });
        const data = blob(n, n + 7);
        const before = engine.pcrs().sha1?.[18] ?? new Uint8Array(20);
        const r = fifoSha1Extend(d, 2, 18, splits(data, [1, 700, 63, 4096, 65]));
        expect(r.rc).toBe(0);
        expect(r.hashValue).toEqual(sha1(data));
        expect(r.outDigest).toEqual(extendValue('sha1', before, sha1(data)));
        expect(engine.pcrs().sha1?.[18]).toEqual(r.outDigest);
        expect(r.bytes).toBe(n);
        expect(d.state().activeLocality).toBeNull();
      });
    }
  }

  it('uses maxNumBytes chunks (4032) and small bursts', () => {
    const d = new TisDevice(realEngine('1.2'), { profile: 'tis-1.3', burstMax: 7 });
    const r = fifoSha1Extend(d, 2, 18, [blob(4032 * 3 + 10)]);
    expect([r.rc, r.updates]).toEqual([0, 3]);
  });

  it('surfaces TPM errors: bad PCR index, and a foreign command killing the SHA-1 thread (libtpms TPM_Check_SHA1Context)', () => {
    const d = new TisDevice(realEngine('1.2'));
    const bad = fifoSha1Extend(d, 2, 24, [blob(300)]);
    expect(bad.rc).not.toBe(0);
    expect([bad.hashValue, bad.outDigest]).toEqual([null, null]);
    const s = new FifoSha1Extend(d, 2, 18, { maxChunk: 64 });
    s.update(blob(200));
    new CarefulDriver(d).transmit(2, tpm12Commands.pcrRead12(17));
    s.update(blob(200));
    const r = s.finish();
    expect(r.rc).toBe(TPM_RC12.SHA_THREAD);
    expect(d.state().activeLocality).toBeNull();
  });

  it('async upload stream', async () => {
    const engine = realEngine('1.2');
    const d = new TisDevice(engine);
    const data = blob(9000);
    async function* gen(): AsyncGenerator<Uint8Array> {
      for (const c of splits(data, [1000, 3])) yield c;
    }
    const r = await fifoSha1ExtendStream(d, 2, 18, gen());
    expect(r.hashValue).toEqual(sha1(data));
  });
});

describe('careful driver, TPM 2.0 event sequence (Xen early path: HashSequenceStart/SequenceUpdate/EventSequenceComplete)', () => {
  for (const n of BLOB_SIZES) {
    it(`${n} bytes: digests per algorithm and every allocated bank of PCR 18`, () => {
      const engine = realEngine('2.0', ['sha1', 'sha256', 'sha384']);
      const d = new TisDevice(engine);
      const data = blob(n, 3 * n + 1);
      const before = engine.pcrs();
      const r = fifoEventSequenceExtend(d, 2, 18, splits(data, [513, 1, 2048]));
      expect(r.rc).toBe(0);
      const byBank = new Map(r.digests.map((x) => [x.bank, x.digest]));
      for (const bank of ['sha1', 'sha256', 'sha384'] as const) {
        expect(byBank.get(bank), bank).toEqual(digest(bank, data));
        expect(engine.pcrs()[bank]?.[18]).toEqual(extendValue(bank, before[bank]?.[18] ?? new Uint8Array(0), digest(bank, data)));
      }
      expect(d.state().activeLocality).toBeNull();
    });
  }

  it('an error after HashSequenceStart flushes the sequence object (slots stay free)', () => {
    const d = new TisDevice(realEngine('2.0'));
    for (let i = 0; i < 5; i++) {
      // TPM_RH_OWNER is not a PCR handle: EventSequenceComplete fails after 2 updates
      const bad = fifoEventSequenceExtend(d, 2, 0x40000001, [blob(2100)]);
      expect(bad.rc).not.toBe(0);
      expect(bad.digests).toEqual([]);
    }
    expect(fifoEventSequenceExtend(d, 2, 18, [blob(10)]).rc).toBe(0);
  });

  it('async upload stream, small bursts, byte-wide FIFO', async () => {
    const d = new TisDevice(realEngine('2.0'), { burstMax: 3 });
    const data = blob(3000);
    async function* gen(): AsyncGenerator<Uint8Array> {
      for (const c of splits(data, [100, 1500])) yield c;
    }
    const r = await fifoEventSequenceExtendStream(d, 3, 18, gen(), { driver: { wideFifo: false } });
    expect(r.digests.find((x) => x.bank === 'sha256')?.digest).toEqual(digest('sha256', data));
  });

  it('abort() releases the locality and the sequence', () => {
    const d = new TisDevice(realEngine('2.0'));
    for (let i = 0; i < 4; i++) {
      const s = new FifoEventSequenceExtend(d, 2, 18);
      s.update(blob(2000));
      s.abort();
      expect(d.state().activeLocality).toBeNull();
    }
    expect(fifoEventSequenceExtend(d, 2, 18, [blob(10)]).rc).toBe(0);
  });
});

describe('careful driver interface checks', () => {
  it('gives up (bounded) when another locality holds the TPM and withdraws its request', () => {
    const d = new TisDevice(realEngine('2.0'));
    d.write(REG(3, TIS_REG.ACCESS), 1, TIS_ACCESS.REQUEST_USE);
    const drv = new CarefulDriver(d, { pollLimit: 50 });
    expect(() => drv.transmit(2, Uint8Array.of(0x80, 0x01, 0, 0, 0, 10, 0, 0, 0x01, 0x7b))).toThrow(TisTimeoutError);
    expect(d.read(REG(2, TIS_REG.ACCESS), 1) & TIS_ACCESS.REQUEST_USE).toBe(0);
  });

  it('matches engine.execute for a command, in every profile', () => {
    for (const [family, profile] of [
      ['1.2', 'tis-1.2'],
      ['1.2', 'tis-1.3'],
      ['2.0', 'ptp-fifo'],
    ] as const) {
      const cmd = family === '1.2' ? tpm12Commands.pcrRead12(17) : Uint8Array.of(0x80, 0x01, 0, 0, 0, 0x0e, 0, 0, 0x01, 0x86, 0, 0, 0, 0x10);
      const viaFifo = new CarefulDriver(new TisDevice(realEngine(family), { profile })).transmit(0, cmd);
      expect(viaFifo).toEqual(realEngine(family).execute(cmd, 0));
    }
  });
});
