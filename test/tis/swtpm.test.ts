/**
 * Differential: every command the drivers push through the FIFO into our engine is replayed on
 * swtpm (libtpms) at the same locality, and every response must match byte for byte; the PCRs
 * the measurement leaves must match too (TPM 1.2 SHA-1 thread and HASH_START/END, TPM 2.0 event
 * sequence).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { putU32be, u32be } from '../../src/bytes/index.js';
import { CarefulDriver, FifoSha1Extend, fifoEventSequenceExtend, fifoSha1Extend, seedExtendMbi12, tpm12Commands } from '../../src/drivers/index.js';
import { sha1 } from '../../src/hash/index.js';
import { TisDevice } from '../../src/tis/index.js';
import { createTpm12 } from '../../src/tpm12/index.js';
import { createTpm2 } from '../../src/tpm2/index.js';
import { TPM_RC12 } from '../../src/tpm12/index.js';
import { describeWithSwtpm, Swtpm } from '../support/swtpm.js';
import { RecordingEngine } from './support.js';

const SIZES = [0, 8, 64, 65, 128, 1088, 5000];
function blob(n: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 31 + n) & 0xff);
}

async function replay12(sw: Swtpm, rec: RecordingEngine): Promise<void> {
  for (const r of rec.log.splice(0)) {
    await sw.setLocality(r.locality);
    expect(await sw.send(r.cmd)).toEqual(r.rsp);
  }
}

describeWithSwtpm('TIS drivers vs swtpm, TPM 1.2', () => {
  let sw: Swtpm;
  const rec = new RecordingEngine(createTpm12({ startup: true }));
  const device = new TisDevice(rec, { profile: 'tis-1.3' });
  beforeAll(async () => {
    sw = await Swtpm.start({ tpm2: false });
  });
  afterAll(async () => {
    await sw?.stop();
  });

  it('dynamic launch: same PCR 17 as swtpm HASH_START/DATA/END', async () => {
    const data = blob(3000);
    expect(device.dynamicLaunch(data)).toBe(0);
    expect(await sw.drtm(data)).toBe(0);
    await sw.setLocality(0);
    const swPcr17 = await sw.send(tpm12Commands.pcrRead12(17));
    expect(rec.inner.pcrs().sha1?.[17]).toEqual(swPcr17.subarray(10, 30));
    expect(await sw.getEstablished()).toBe(rec.established);
  });

  for (const n of SIZES) {
    it(`seed early MBI measurement, ${n} bytes: every response and PCR 18 equal swtpm`, async () => {
      const data = blob(n);
      const r = seedExtendMbi12(device, data);
      expect(r.hashValue).toEqual(sha1(data));
      await replay12(sw, rec);
      await sw.setLocality(2);
      const swPcr = await sw.send(tpm12Commands.pcrRead12(18));
      expect(rec.inner.pcrs().sha1?.[18]).toEqual(swPcr.subarray(10, 30));
    });
  }

  for (const n of SIZES) {
    it(`careful SHA1 stream, ${n} bytes: every response equals swtpm`, async () => {
      const r = fifoSha1Extend(device, 2, 18, [blob(n)]);
      expect(r.rc).toBe(0);
      await replay12(sw, rec);
    });
  }

  it('error paths (bad PCR, thread killed) answer as swtpm does', async () => {
    expect(seedExtendMbi12(device, blob(200), 24).hashValue).toEqual(new Uint8Array(20).fill(0xff));
    expect(fifoSha1Extend(device, 2, 24, [blob(70)]).rc).not.toBe(0);
    const s = new FifoSha1Extend(device, 2, 18, { maxChunk: 64 });
    s.update(blob(300));
    new CarefulDriver(device).transmit(2, tpm12Commands.pcrRead12(0)); // kills the SHA-1 thread
    s.update(blob(300));
    expect(s.finish().rc).toBe(TPM_RC12.SHA_THREAD);
    await replay12(sw, rec);
  });
});

/** Map our transient handles to swtpm's: HashSequenceStart returns one, later commands carry it. */
function mapHandle(cmd: Uint8Array, offsets: number[], map: Map<number, number>): Uint8Array {
  const out = cmd.slice();
  for (const o of offsets) {
    const h = u32be(out, o);
    const m = map.get(h);
    if (m !== undefined) putU32be(out, o, m);
  }
  return out;
}
const HANDLE_OFFSETS: Record<number, number[]> = { 0x15c: [10], 0x185: [14], 0x165: [10] };

describeWithSwtpm('TIS drivers vs swtpm, TPM 2.0', () => {
  let sw: Swtpm;
  const rec = new RecordingEngine(createTpm2({ startup: true }));
  const device = new TisDevice(rec);
  beforeAll(async () => {
    sw = await Swtpm.start({ tpm2: true });
  });
  afterAll(async () => {
    await sw?.stop();
  });

  async function replay2(): Promise<void> {
    const map = new Map<number, number>();
    for (const r of rec.log.splice(0)) {
      await sw.setLocality(r.locality);
      const cc = u32be(r.cmd, 6);
      const got = await sw.send(mapHandle(r.cmd, HANDLE_OFFSETS[cc] ?? [], map));
      if (cc === 0x186 && u32be(got, 6) === 0) {
        map.set(u32be(r.rsp, 10), u32be(got, 10));
        expect(got.subarray(0, 10)).toEqual(r.rsp.subarray(0, 10));
      } else {
        expect(got).toEqual(r.rsp);
      }
    }
  }

  for (const n of SIZES) {
    it(`event sequence, ${n} bytes: every response (digests of all banks) equals swtpm`, async () => {
      const r = fifoEventSequenceExtend(device, 2, 18, [blob(n)]);
      expect(r.rc).toBe(0);
      expect(r.digests.length).toBeGreaterThanOrEqual(2);
      await replay2();
    });
  }

  it('errors and flushes answer as swtpm does', async () => {
    expect(fifoEventSequenceExtend(device, 2, 0x40000001, [blob(1500)]).rc).not.toBe(0);
    expect(fifoEventSequenceExtend(device, 0, 17, [blob(10)]).rc).not.toBe(0); // PCR 17 from locality 0
    await replay2();
  });
});
