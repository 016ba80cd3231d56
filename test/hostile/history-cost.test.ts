/**
 * A request's cost does not grow with what the session did before: after random histories (long
 * TPM 2.0 hash sequences, full logs, many events, open SHA-1 threads) a small measurement costs
 * within a constant factor of the same measurement on a fresh session, and the state a transaction
 * checkpoints stays the same size.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Session, type SessionOptions } from '../../src/sessions/session.js';
import { applyMeasurement, measurementBanks } from '../../src/measure/measure.js';
import { MultiHasher, type BankName } from '../../src/hash/index.js';
import { tpm2Commands } from '../../src/drivers/index.js';

const opts = (family: '1.2' | '2.0', logSize: number): SessionOptions => ({
  family,
  startup: true,
  logSize,
  compat: 'xen',
  banks: family === '1.2' ? ['sha1'] : ['sha1', 'sha256'],
  tisProfile: family === '1.2' ? 'tis-1.2' : 'ptp-fifo',
});

function digestsOf(session: Session, data: Uint8Array): Map<BankName, Uint8Array> {
  const h = new MultiHasher(measurementBanks(session));
  h.update(data);
  return h.digests();
}

/** Median time of `n` small host-path measurements through the session's transaction. */
async function smallMeasurementMs(session: Session, n = 25): Promise<number> {
  const data = new Uint8Array(100).fill(7);
  const digests = digestsOf(session, data);
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await session.transact(() => applyMeasurement(session, { pcr: 17, locality: 2, eventType: 0x502, eventData: new Uint8Array(0), hashing: 'host' }, digests, data.length));
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(n / 2)] ?? 0;
}

/** TPM2_HashSequenceStart(event); returns its handle. */
function startSequence(session: Session): number {
  return Buffer.from(session.engine.execute(tpm2Commands.hashSequenceStartEvent(), 0)).readUInt32BE(10);
}

/** `kib` KiB of SequenceUpdate through the raw command path. */
function feedSequence(session: Session, handle: number, kib: number): void {
  const chunk = new Uint8Array(1024).fill(0xa5);
  for (let i = 0; i < kib; i++) {
    const rsp = session.engine.execute(tpm2Commands.sequenceUpdate(handle, chunk), 0);
    if (Buffer.from(rsp).readUInt32BE(6) !== 0) throw new Error('SequenceUpdate failed');
  }
}

function fillLog(session: Session, events: number, dataBytes: number): void {
  const data = new Uint8Array(dataBytes);
  const digests = digestsOf(session, data);
  for (let i = 0; i < events; i++) applyMeasurement(session, { pcr: 18, locality: 2, eventType: 0x502, eventData: data, hashing: 'host' }, digests, 0);
}

describe('the cost of a request does not grow with the session history', () => {
  it('checkpointed state stays the same size after a long TPM 2.0 sequence', () => {
    const s = new Session('x', opts('2.0', 32768), 0);
    const size = (): number => JSON.stringify(s.engine.snapshot()).length;
    const handle = startSequence(s);
    feedSequence(s, handle, 1);
    const before = size();
    feedSequence(s, handle, 2048);
    expect(size()).toBe(before);
  });

  it('a small measurement after random histories costs within a constant factor of a fresh session’s', async () => {
    const fresh12 = await smallMeasurementMs(new Session('f12', opts('1.2', 16 * 1024 * 1024), 0));
    const fresh20 = await smallMeasurementMs(new Session('f20', opts('2.0', 16 * 1024 * 1024), 0));
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          family: fc.constantFrom<'1.2' | '2.0'>('1.2', '2.0'),
          sequenceMiB: fc.integer({ min: 0, max: 4 }),
          events: fc.integer({ min: 0, max: 3000 }),
          dataBytes: fc.integer({ min: 0, max: 2048 }),
          logSize: fc.constantFrom(4096, 65536, 16 * 1024 * 1024),
        }),
        async (h) => {
          const s = new Session('h', opts(h.family, h.logSize), 0);
          if (h.family === '2.0') feedSequence(s, startSequence(s), h.sequenceMiB * 1024);
          fillLog(s, h.events, h.dataBytes);
          const after = await smallMeasurementMs(s);
          const fresh = h.family === '1.2' ? fresh12 : fresh20;
          // Generous: the regression this guards against was two orders of magnitude.
          expect(after, JSON.stringify(h)).toBeLessThan(Math.max(fresh * 8, 2));
        },
      ),
      { numRuns: 10 },
    );
  });
});
