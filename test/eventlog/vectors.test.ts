import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/bytes/index.js';
import { detectFormat, parseEventLog } from '../../src/eventlog/parse.js';
import { pcrsToHex, replayEventLog } from '../../src/eventlog/replay.js';
import { serializeEventLog } from '../../src/eventlog/serialize.js';
import { checkEventDataDigest } from '../../src/eventlog/data-digest.js';
import { decodeEventData } from '../../src/eventlog/decode.js';
import { toCelJson } from '../../src/eventlog/cel.js';
import { verifyEventLog } from '../../src/eventlog/verify.js';
import { loadVectors } from './vectors.js';

const vectors = loadVectors();

describe('public event-log vectors (TCG PC Client PFP logs; vectors README)', () => {
  it('has 26 vectors whose files match their recorded size and sha256', () => {
    expect(vectors.length).toBe(26);
    for (const v of vectors) {
      expect(v.bytes.length, v.name).toBe(v.expected.size);
      expect(createHash('sha256').update(v.bytes).digest('hex'), v.name).toBe(v.expected.sha256);
    }
  });

  it.each(vectors.map((v) => [v.name, v] as const))('%s: format detection matches', (_n, v) => {
    expect(detectFormat(v.bytes)).toBe(v.expected.format);
    expect(parseEventLog(v.bytes).format).toBe(v.expected.format);
  });

  it.each(vectors.map((v) => [v.name, v] as const))('%s: parse → serialize is byte-identical', (_n, v) => {
    const out = serializeEventLog(parseEventLog(v.bytes));
    expect(out.length).toBe(v.bytes.length);
    expect(toHex(out)).toBe(toHex(v.bytes));
  });

  it('replays every vector to all 375 upstream PCR values', () => {
    let total = 0;
    let matched = 0;
    const failures: string[] = [];
    for (const v of vectors) {
      const r = replayEventLog(parseEventLog(v.bytes));
      expect(r.startupLocality, v.name).toBe(v.expected.startupLocality ?? null);
      const all = pcrsToHex(r, true);
      for (const [bank, m] of Object.entries(v.expected.pcrs ?? {})) {
        for (const [i, hex] of Object.entries(m)) {
          total++;
          if (all[bank]?.[i] === hex) matched++;
          else failures.push(`${v.name} ${bank}:${i}`);
        }
      }
      const verify = verifyEventLog(parseEventLog(v.bytes), v.expected.pcrs ?? {});
      expect(verify.ok, v.name).toBe(true);
    }
    expect(failures).toEqual([]);
    expect(total).toBe(375);
    expect(matched).toBe(375);
  });

  it('every vector replays to 24 PCRs in every bank: PCR 17–22 keep their all-ones reset value (firmware logs, no dynamic launch)', () => {
    let banks = 0;
    for (const v of vectors) {
      const r = replayEventLog(parseEventLog(v.bytes));
      expect(r.dynamicLaunch, v.name).toBe(false);
      expect(r.launchRecord, v.name).toBeNull();
      for (const [bank, values] of Object.entries(r.pcrs)) {
        banks++;
        expect(values, `${v.name} ${bank}`).toHaveLength(24);
        for (let i = 17; i <= 22; i++) expect(toHex(values[i] ?? new Uint8Array(0)), `${v.name} ${bank}:${i}`).toMatch(/^(ff)+$/);
        const untouched = r.untouched[bank as keyof typeof r.untouched] ?? [];
        expect(untouched, `${v.name} ${bank}`).toEqual(expect.arrayContaining([17, 18, 19, 20, 21, 22]));
        expect([...untouched, ...(r.touched[bank as keyof typeof r.touched] ?? [])].sort((a, b) => a - b)).toEqual([...Array(24).keys()]);
      }
    }
    expect(banks).toBeGreaterThanOrEqual(50);
  });

  it('an empty expected set means no PCR is extended (specid-vendordata)', () => {
    const v = vectors.find((x) => x.name === 'tpm2tools-specid-vendordata');
    expect(v?.expected.pcrs).toEqual({});
    const log = parseEventLog(v?.bytes ?? new Uint8Array(0));
    expect(log.specId?.vendorInfo).toEqual(new Uint8Array([0xde, 0xad, 0xbe, 0xef]));
    expect(log.warnings.join()).toMatch(/past eventSize/);
    const r = replayEventLog(log);
    expect(Object.values(r.touched).flat()).toEqual([]);
  });

  it('announced-but-absent banks are not reported as changed (uefiaction, uefivar)', () => {
    for (const name of ['tpm2tools-event-uefiaction', 'tpm2tools-event-uefivar']) {
      const v = vectors.find((x) => x.name === name);
      const r = replayEventLog(parseEventLog(v?.bytes ?? new Uint8Array(0)));
      expect(r.touched.sha384, name).toEqual([]);
      expect(r.touched.sha512, name).toEqual([]);
      expect(r.touched.sha1?.length, name).toBe(1);
    }
  });

  it('the only data/digest disagreement in the set is the one upstream warns about (arch-linux event 24)', () => {
    const found: string[] = [];
    for (const v of vectors) {
      for (const e of parseEventLog(v.bytes).events) {
        const f = checkEventDataDigest(e);
        if (f) found.push(`${v.name}#${f.eventIndex}`);
      }
    }
    expect(found.sort()).toEqual(['gotpmtools-arch-linux-workstation#24', 'tpm2tools-event-arch-linux#24']);
  });

  it('decodes event data of every record without throwing, and emits CEL-JSON', () => {
    const kinds = new Set<string>();
    for (const v of vectors) {
      const log = parseEventLog(v.bytes);
      for (const e of log.events) kinds.add(decodeEventData(e.pcr, e.type, e.data).kind);
      const cel = toCelJson(log);
      expect(cel.length, v.name).toBe(log.events.length - 1 + (log.format === 'tpm12-sha1' ? 1 : 0));
      expect(JSON.parse(JSON.stringify(cel))).toEqual(cel);
    }
    for (const k of ['spec-id', 'startup-locality', 'sp800-155-event3', 'separator', 'string', 'firmware-blob', 'efi-variable', 'efi-image-load', 'efi-gpt', 'event-tag']) {
      expect(kinds.has(k), k).toBe(true);
    }
  });
});
