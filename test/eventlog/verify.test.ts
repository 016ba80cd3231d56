import { describe, expect, it } from 'vitest';
import { digest } from '../../src/hash/index.js';
import { EV } from '../../src/eventlog/constants.js';
import { parseEventLog } from '../../src/eventlog/parse.js';
import { verifyEventLog } from '../../src/eventlog/verify.js';
import { loadVectors } from './vectors.js';

const vectors = loadVectors();
const load = (name: string): { bytes: Uint8Array; pcrs: Record<string, Record<string, string>> } => {
  const v = vectors.find((x) => x.name === name);
  if (!v?.expected.pcrs) throw new Error(`no vector ${name}`);
  return { bytes: v.bytes.slice(), pcrs: v.expected.pcrs };
};

describe('verify: mismatch explanation on tampered real logs', () => {
  it('tampered digest of an EV_EFI_ACTION record: PCR mismatch names that event as likely cause', () => {
    const { bytes, pcrs } = load('gotpmtools-ubuntu-2404-amd-sevsnp');
    const target = parseEventLog(bytes).events.find((e) => e.type === EV.EFI_ACTION && e.digests.some((d) => d.bank === 'sha256'));
    expect(target).toBeDefined();
    if (!target) return;
    // sha1 digest sits right after pcr, type, count, hashAlg: flip one byte of the first digest.
    bytes[target.offset + 14] = (bytes[target.offset + 14] ?? 0) ^ 0x01;
    const r = verifyEventLog(parseEventLog(bytes), pcrs);
    expect(r.ok).toBe(false);
    expect(r.mismatches.map((m) => `${m.bank}:${m.pcr}`)).toEqual([`sha1:${target.pcr}`]);
    const m = r.mismatches[0];
    expect(m?.events?.map((e) => e.index)).toContain(target.index);
    expect(m?.likelyCause?.map((c) => c.eventIndex)).toEqual([target.index]);
    expect(r.dataDigestFindings.map((f) => f.eventIndex)).toEqual([target.index]);
  });

  it('tampered data of an EV_SEPARATOR record: PCRs still match, the event is reported as inconsistent', () => {
    const { bytes, pcrs } = load('tpm2tools-event-bootorder');
    const target = parseEventLog(bytes).events.find((e) => e.type === EV.SEPARATOR && e.pcr === 4);
    if (!target) throw new Error('no separator');
    const dataOff = target.offset + target.size - target.data.length;
    bytes[dataOff] = 0x5a;
    const r = verifyEventLog(parseEventLog(bytes), pcrs);
    expect(r.ok).toBe(true);
    expect(r.dataDigestFindings).toEqual([{ eventIndex: target.index, offset: target.offset, pcr: 4, type: EV.SEPARATOR, algorithms: [0x0004, 0x000b] }]);
  });

  it('data and digest replaced consistently (a substituted GRUB command): mismatch lists feeding events, no false cause', () => {
    const { bytes, pcrs } = load('tpm2tools-event-gce-ubuntu-2104-log');
    const log = parseEventLog(bytes);
    const target = log.events.find((e) => e.type === EV.IPL && new TextDecoder().decode(e.data).startsWith('grub_cmd: set timeout=0.1'));
    if (!target) throw new Error('no grub_cmd');
    const text = 'grub_cmd: set timeout=9.9\0';
    target.data = new TextEncoder().encode(text);
    for (const d of target.digests) if (d.bank) d.digest = digest(d.bank, target.data.subarray(10, target.data.length - 1));
    const r = verifyEventLog(log, pcrs);
    expect(r.mismatches.map((m) => `${m.bank}:${m.pcr}`).sort()).toEqual(['sha1:8', 'sha256:8', 'sha384:8']);
    for (const m of r.mismatches) {
      expect(m.events?.some((e) => e.index === target.index)).toBe(true);
      expect(m.likelyCause).toEqual([]);
      expect(m.note).toMatch(/missing|another boot/);
    }
  });

  it('unknown bank and absent bank are mismatches with a note', () => {
    const { bytes } = load('tpm2tools-event-sd-boot-fedora37');
    const r = verifyEventLog(parseEventLog(bytes), { sha1: { '0': '00' }, md5: { '1': '00' } });
    expect(r.ok).toBe(false);
    expect(r.mismatches.map((m) => [m.bank, m.actual, typeof m.note])).toEqual([
      ['sha1', null, 'string'],
      ['md5', null, 'string'],
    ]);
  });
});
