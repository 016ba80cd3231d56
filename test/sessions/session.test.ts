/**
 * Session state serializes to plain data (for durable stores): a snapshot that went through JSON
 * rebuilds a session whose TPM, TIS and log answer exactly like the original's.
 */
import { describe, expect, it } from 'vitest';
import { Session, type SessionOptions, type SessionSnapshot } from '../../src/sessions/session.js';
import { startMeasurement } from '../../src/measure/measure.js';
import { dynamicLaunch } from '../../src/measure/launch.js';

const opts = (family: '1.2' | '2.0'): SessionOptions => ({
  family,
  startup: true,
  logSize: 4096,
  compat: 'xen',
  banks: family === '1.2' ? ['sha1'] : ['sha1', 'sha256'],
  tisProfile: family === '1.2' ? 'tis-1.2' : 'ptp-fifo',
});

async function measure(s: Session, data: Uint8Array, hashing: 'host' | 'tpm'): Promise<void> {
  const m = startMeasurement(s, { pcr: 18, locality: 2, eventType: 0x502, eventData: new Uint8Array(0), hashing });
  await m.update(data);
  await m.finish();
}

describe('Session snapshot ↔ restore', () => {
  for (const family of ['1.2', '2.0'] as const) {
    it(`TPM ${family}: JSON round trip keeps PCRs, log, TIS and keeps behaving identically`, async () => {
      const a = new Session('abc', opts(family), 1000);
      dynamicLaunch(a, new Uint8Array([1, 2, 3]), true);
      await measure(a, new Uint8Array(500).fill(7), 'tpm');
      await measure(a, new Uint8Array(300).fill(9), 'host');
      const snap = JSON.parse(JSON.stringify(a.snapshot())) as SessionSnapshot;
      const b = Session.restore(snap);
      expect(b.engine.pcrs()).toEqual(a.engine.pcrs());
      expect(Buffer.from(b.log.bytes())).toEqual(Buffer.from(a.log.bytes()));
      expect(b.tis.state()).toEqual(a.tis.state());
      // Both continue the same way.
      await measure(a, new Uint8Array(70).fill(1), 'tpm');
      await measure(b, new Uint8Array(70).fill(1), 'tpm');
      expect(b.engine.pcrs()).toEqual(a.engine.pcrs());
      expect(Buffer.from(b.log.bytes())).toEqual(Buffer.from(a.log.bytes()));
      expect(b.measurements).toBe(a.measurements);
    });
  }

  it('rollback undoes a half-fed TPM-hashing measurement (SHA-1 thread open, locality held)', async () => {
    const s = new Session('x', opts('1.2'), 0);
    const before = s.checkpoint();
    const m = startMeasurement(s, { pcr: 18, locality: 2, eventType: 0x502, eventData: new Uint8Array(0), hashing: 'tpm' });
    await m.update(new Uint8Array(10_000));
    expect(s.tis.state().activeLocality).toBe(2);
    s.rollback(before);
    expect(s.tis.state().activeLocality).toBe(null);
    expect(s.engine.snapshot()).toEqual(new Session('y', opts('1.2'), 0).engine.snapshot());
  });
});
