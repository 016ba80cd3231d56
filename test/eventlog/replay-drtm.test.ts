/**
 * The replay's model of PCR 17–22 (src/eventlog/replay.ts, docs/replay-verify.md): they start at
 * all ones; the first record on PCR 17–22 with a DRTM type (TXT 0x400–0x4FF, Secure Launch
 * 0x502–0x504) is the dynamic launch and resets all of 17–22 to zero in every bank before it is
 * extended. Hand-built logs of every record kind, in all three formats. Expected values are
 * computed here with node:crypto from the records, not taken from the replay.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { concatBytes, LeWriter } from '../../src/bytes/index.js';
import { EV, SLAUNCH_EVTYPE, TXT_EVTYPE } from '../../src/eventlog/constants.js';
import type { LogFormat } from '../../src/eventlog/model.js';
import { parseEventLog } from '../../src/eventlog/parse.js';
import { replayEventLog, type ReplayResult } from '../../src/eventlog/replay.js';
import { encodeSpecIdEvent00 } from '../../src/eventlog/spec-id.js';
import { Tcg2Log } from '../../src/eventlog/tcg2.js';
import { TxtContainerLog } from '../../src/eventlog/txt-container.js';
import { verifyEventLog } from '../../src/eventlog/verify.js';

type Alg = 'sha1' | 'sha256' | 'sha384';
const SIZE: Record<Alg, number> = { sha1: 20, sha256: 32, sha384: 48 };
const ALG_ID: Record<Alg, number> = { sha1: 0x0004, sha256: 0x000b, sha384: 0x000c };
const enc = new TextEncoder();
const H = (alg: Alg, ...parts: Uint8Array[]): Uint8Array => {
  const h = createHash(alg);
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};
const zeros = (alg: Alg): Uint8Array => new Uint8Array(SIZE[alg]);
const ones = (alg: Alg): Uint8Array => new Uint8Array(SIZE[alg]).fill(0xff);
const hex = (b: Uint8Array | undefined): string => Buffer.from(b ?? new Uint8Array(0)).toString('hex');
const ALL = [...Array(24).keys()];
const DRTM = [17, 18, 19, 20, 21, 22];

interface Rec {
  pcr: number;
  type: number;
  data?: Uint8Array;
  /** Banks the record carries a digest for (TCG2 only; default: all of the log's banks). */
  only?: Alg[];
}
/** The digest a record carries for a bank: the hash of its data, or of a label when it has none. */
const digestOf = (r: Rec, i: number, alg: Alg): Uint8Array => H(alg, r.data && r.data.length > 0 ? r.data : enc.encode(`record ${i}`));

/** One of the three formats (TXT container bare or nested in a Spec ID Event00 header). */
type Kind = 'tpm12-sha1' | 'tcg2-agile' | 'txt-container' | 'txt-container-nested';
const KINDS: Kind[] = ['tpm12-sha1', 'tcg2-agile', 'txt-container', 'txt-container-nested'];
const formatOf = (k: Kind): LogFormat => (k === 'txt-container-nested' ? 'txt-container' : k);
const banksOf = (k: Kind): Alg[] => (k === 'tcg2-agile' ? ['sha1', 'sha256', 'sha384'] : ['sha1']);

function build(kind: Kind, recs: Rec[]): Uint8Array {
  if (kind === 'tpm12-sha1') {
    return concatBytes(...recs.map((r, i) => new LeWriter().u32(r.pcr).u32(r.type).bytes(digestOf(r, i, 'sha1')).u32(r.data?.length ?? 0).bytes(r.data ?? new Uint8Array(0)).finish()));
  }
  if (kind === 'tcg2-agile') {
    const banks = banksOf(kind);
    const header = new Tcg2Log({ banks }).bytes();
    const records = recs.map((r, i) => {
      const w = new LeWriter().u32(r.pcr).u32(r.type);
      const carried = banks.filter((b) => !r.only || r.only.includes(b));
      w.u32(carried.length);
      for (const b of carried) {
        w.u16(ALG_ID[b]);
        w.bytes(digestOf(r, i, b));
      }
      return w.u32(r.data?.length ?? 0).bytes(r.data ?? new Uint8Array(0)).finish();
    });
    return concatBytes(header, ...records);
  }
  const c = new TxtContainerLog({ size: 8192 });
  recs.forEach((r, i) => expect(c.append({ pcr: r.pcr, type: r.type, digest: digestOf(r, i, 'sha1'), data: r.data ?? new Uint8Array(0) })).not.toBeNull());
  if (kind === 'txt-container') return c.usedBytes();
  // Nested: a Spec ID Event00 header whose vendorInfo is the container header (AMD SKINIT layout).
  const specData = encodeSpecIdEvent00({ platformClass: 0, specVersionMinor: 2, specVersionMajor: 1, specErrata: 1, uintnSize: 0, vendorInfo: c.bytes().subarray(0, 48) });
  const headerRecord = new LeWriter().u32(0).u32(EV.NO_ACTION).bytes(new Uint8Array(20)).u32(specData.length).bytes(specData).finish();
  return concatBytes(headerRecord, c.usedBytes().subarray(48));
}

/**
 * What the records give on a PC Client TPM: PCR 17–22 all ones, zero from the launch record on
 * (`launchAt`: position in `recs`, or -1), every non-EV_NO_ACTION record on PCR 0–23 extended.
 */
function model(kind: Kind, recs: Rec[], launchAt: number, startupLocality = 0): Record<Alg, Uint8Array[]> {
  const out = {} as Record<Alg, Uint8Array[]>;
  for (const alg of banksOf(kind)) {
    const v = ALL.map((i) => (i >= 17 && i <= 22 ? ones(alg) : zeros(alg)));
    (v[0] as Uint8Array)[SIZE[alg] - 1] = startupLocality;
    recs.forEach((r, i) => {
      if (i === launchAt) for (const p of DRTM) v[p] = zeros(alg);
      if (r.type === EV.NO_ACTION || r.pcr >= 24) return;
      if (kind === 'tcg2-agile' && r.only && !r.only.includes(alg)) return;
      v[r.pcr] = H(alg, v[r.pcr] as Uint8Array, digestOf(r, i, alg));
    });
    out[alg] = v;
  }
  return out;
}

function replay(kind: Kind, recs: Rec[]): ReplayResult {
  const log = parseEventLog(build(kind, recs));
  expect(log.format).toBe(formatOf(kind));
  return replayEventLog(log);
}

function expectModel(kind: Kind, recs: Rec[], launchAt: number, label: string, startupLocality = 0): ReplayResult {
  const r = replay(kind, recs);
  const want = model(kind, recs, launchAt, startupLocality);
  for (const alg of banksOf(kind)) expect(r.pcrs[alg]?.map(hex), `${label} ${kind} ${alg}`).toEqual(want[alg].map(hex));
  expect(r.dynamicLaunch, `${label} ${kind}`).toBe(launchAt >= 0);
  return r;
}

/** Record index of the i-th record as the parser numbers it (a TCG2 or nested log has a header record first). */
const recordIndex = (kind: Kind, i: number): number => (kind === 'tcg2-agile' || kind === 'txt-container-nested' ? i + 1 : i);

const TXT_KINDS = [...new Set<number>([TXT_EVTYPE.BASE, ...Object.values(TXT_EVTYPE), 0x4a0, 0x4fd])].sort((a, b) => a - b);
const SLAUNCH_KINDS = Object.values(SLAUNCH_EVTYPE);
const FIRMWARE: Rec[] = [
  { pcr: 0, type: EV.S_CRTM_VERSION, data: enc.encode('1.0') },
  { pcr: 0, type: EV.POST_CODE },
  { pcr: 7, type: EV.EFI_VARIABLE_DRIVER_CONFIG },
  { pcr: 4, type: EV.SEPARATOR, data: new Uint8Array(4) },
];

describe('PCR 17–22 without a dynamic launch', () => {
  it.each(KINDS)('%s: a firmware-only log leaves PCR 17–22 at all ones and untouched in every bank', (kind) => {
    const r = expectModel(kind, FIRMWARE, -1, 'firmware');
    for (const alg of banksOf(kind)) {
      for (const p of DRTM) expect(hex(r.pcrs[alg]?.[p])).toBe(hex(ones(alg)));
      expect(r.untouched[alg]).toEqual(ALL.filter((i) => ![0, 4, 7].includes(i)));
      expect(r.touched[alg]).toEqual([0, 4, 7]);
    }
    expect(r.launchRecord).toBeNull();
  });

  // Records that are not a launch: EV_NO_ACTION (any data), types next to the DRTM ranges and
  // firmware types on 17–22, DRTM types on PCRs outside 17–22.
  const notLaunch: [string, Rec][] = [
    ['EV_NO_ACTION on PCR 17', { pcr: 17, type: EV.NO_ACTION, data: enc.encode('drtm marker') }],
    ['EV_NO_ACTION StartupLocality-shaped data on PCR 17', { pcr: 17, type: EV.NO_ACTION, data: concatBytes(enc.encode('StartupLocality\0'), Uint8Array.of(4)) }],
    ['EV_ACTION on PCR 17', { pcr: 17, type: EV.ACTION, data: enc.encode('hello') }],
    ['EV_EVENT_TAG on PCR 20', { pcr: 20, type: EV.EVENT_TAG }],
    ['EV_IPL on PCR 22', { pcr: 22, type: EV.IPL }],
    ['EV_EFI_ACTION on PCR 18', { pcr: 18, type: EV.EFI_ACTION, data: enc.encode('x') }],
    ['type 0x3FF on PCR 17', { pcr: 17, type: 0x3ff }],
    ['type 0x500 on PCR 17', { pcr: 17, type: 0x500 }],
    ['type 0x501 on PCR 18', { pcr: 18, type: 0x501 }],
    ['type 0x505 on PCR 17', { pcr: 17, type: 0x505 }],
    ['EVTYPE_HASH_START on PCR 16', { pcr: 16, type: TXT_EVTYPE.HASH_START }],
    ['EVTYPE_HASH_START on PCR 23', { pcr: 23, type: TXT_EVTYPE.HASH_START }],
    ['DLE_EVTYPE_SLAUNCH on PCR 0', { pcr: 0, type: SLAUNCH_EVTYPE.SLAUNCH }],
    ['EVTYPE_PCRMAPPING on PCR 255', { pcr: 255, type: TXT_EVTYPE.PCRMAPPING }],
  ];
  for (const kind of KINDS) {
    it.each(notLaunch)(`${kind}: %s is not a launch (17–22 extend from all ones)`, (_label, rec) => {
      const r = expectModel(kind, [...FIRMWARE, rec], -1, _label);
      expect(r.launchRecord).toBeNull();
    });
  }

  // Firmware formats only: a TXT container never holds PCR 0 firmware records.
  it.each(['tpm12-sha1', 'tcg2-agile'] as const)('%s: a StartupLocality 4 record (H-CRTM) starts PCR 0 at 00..04 and is not a dynamic launch', (kind) => {
    const recs: Rec[] = [{ pcr: 0, type: EV.NO_ACTION, data: concatBytes(enc.encode('StartupLocality\0'), Uint8Array.of(4)) }, { pcr: 0, type: EV.EFI_HCRTM_EVENT, data: enc.encode('HCRTM') }, ...FIRMWARE.slice(2)];
    const r = expectModel(kind, recs, -1, 'hcrtm', 4);
    expect(r.startupLocality).toBe(4);
  });
});

describe('the launch record: the first DRTM-typed record on PCR 17–22', () => {
  for (const kind of KINDS) {
    it(`${kind}: each TXT (0x400–0x4FF) and Secure Launch (0x502–0x504) type, on each of PCR 17–22, resets all of 17–22 then extends`, () => {
      let cases = 0;
      for (const type of [...TXT_KINDS, ...SLAUNCH_KINDS]) {
        for (const pcr of DRTM) {
          const recs: Rec[] = [...FIRMWARE, { pcr, type, data: enc.encode(`launch ${type} ${pcr}`) }, { pcr: 18, type: SLAUNCH_EVTYPE.SLAUNCH, data: enc.encode('mbi') }];
          const r = expectModel(kind, recs, FIRMWARE.length, `type 0x${type.toString(16)} PCR ${pcr}`);
          expect(r.launchRecord).toBe(recordIndex(kind, FIRMWARE.length));
          for (const alg of banksOf(kind)) {
            const untouched = DRTM.filter((p) => p !== pcr && p !== 18);
            for (const p of untouched) expect(hex(r.pcrs[alg]?.[p])).toBe(hex(zeros(alg)));
            expect(r.untouched[alg]).toEqual(ALL.filter((i) => ![0, 4, 7, pcr, 18].includes(i)));
          }
          cases++;
        }
      }
      expect(cases).toBe((TXT_KINDS.length + 3) * 6);
    });
  }

  it.each(KINDS)('%s: the launch wipes what earlier records extended into 17–22 (with a warning); a second HASH_START only extends', (kind) => {
    const recs: Rec[] = [
      ...FIRMWARE,
      { pcr: 20, type: EV.ACTION, data: enc.encode('before') },
      { pcr: 17, type: EV.EVENT_TAG, data: enc.encode('before too') },
      { pcr: 17, type: TXT_EVTYPE.HASH_START, data: enc.encode('sinit') },
      { pcr: 18, type: TXT_EVTYPE.MLE_HASH, data: enc.encode('mle') },
      { pcr: 17, type: TXT_EVTYPE.HASH_START, data: enc.encode('sinit again') },
      { pcr: 19, type: EV.ACTION, data: enc.encode('after') },
    ];
    const r = expectModel(kind, recs, FIRMWARE.length + 2, 'wipe');
    const pre = [recordIndex(kind, FIRMWARE.length), recordIndex(kind, FIRMWARE.length + 1)];
    expect(r.warnings.join('\n')).toContain(`record ${recordIndex(kind, FIRMWARE.length + 2)}: the dynamic launch resets PCR 17–22 to zero, so the extends of earlier record(s) ${pre.join(', ')} do not count`);
    for (const alg of banksOf(kind)) {
      expect(r.untouched[alg]).toEqual(ALL.filter((i) => ![0, 4, 7, 17, 18, 19].includes(i)));
      expect(r.feeding[alg]?.[17]).toEqual([recordIndex(kind, FIRMWARE.length + 2), recordIndex(kind, FIRMWARE.length + 4)]);
      expect(r.feeding[alg]?.[20]).toEqual([]);
    }
  });

  it('tcg2-agile: a launch record carrying only a SHA-256 digest resets PCR 17–22 in every bank (SHA-1 and SHA-384 too)', () => {
    const recs: Rec[] = [...FIRMWARE, { pcr: 21, type: EV.ACTION, data: enc.encode('pre') }, { pcr: 17, type: TXT_EVTYPE.HASH_START, data: enc.encode('sinit'), only: ['sha256'] }];
    const r = expectModel('tcg2-agile', recs, FIRMWARE.length + 1, 'one bank');
    expect(hex(r.pcrs.sha1?.[17])).toBe(hex(zeros('sha1')));
    expect(hex(r.pcrs.sha384?.[21])).toBe(hex(zeros('sha384')));
    expect(r.untouched.sha1).toContain(17);
    expect(r.untouched.sha256).not.toContain(17);
  });

  it.each(KINDS)('%s: verify against the model\'s full 24-PCR set is all match; untouched 17–22 are compared with zero after the launch', (kind) => {
    const recs: Rec[] = [...FIRMWARE, { pcr: 17, type: TXT_EVTYPE.HASH_START, data: enc.encode('sinit') }, { pcr: 18, type: SLAUNCH_EVTYPE.SLAUNCH, data: enc.encode('mbi') }];
    const want = model(kind, recs, FIRMWARE.length);
    const expected = Object.fromEntries(banksOf(kind).map((alg) => [alg, Object.fromEntries(want[alg].map((v, i) => [String(i), hex(v)]))]));
    const v = verifyEventLog(parseEventLog(build(kind, recs)), expected);
    expect(v.mismatches).toEqual([]);
    expect(v.checks).toHaveLength(24 * banksOf(kind).length);
    const c19 = v.checks.find((c) => c.pcr === 19);
    expect(c19).toMatchObject({ match: true, untouched: true });
    expect(c19?.note).toContain(`zero (the dynamic launch at record ${recordIndex(kind, FIRMWARE.length)} resets PCR 17–22)`);
    // A quote of a machine that did not launch (17–22 all ones) contradicts this log.
    const noLaunch = verifyEventLog(parseEventLog(build(kind, recs)), { sha1: { '19': hex(ones('sha1')) } });
    expect(noLaunch.ok).toBe(false);
  });
});

describe('drtmStart overrides the rule', () => {
  it.each(KINDS)('%s: zero = launched before the log (no reset at the DRTM record); ones = never launched', (kind) => {
    const recs: Rec[] = [...FIRMWARE, { pcr: 20, type: EV.ACTION, data: enc.encode('pre') }, { pcr: 17, type: TXT_EVTYPE.HASH_START, data: enc.encode('sinit') }];
    const log = parseEventLog(build(kind, recs));
    const zero = replayEventLog(log, { drtmStart: 'zero' });
    const ones_ = replayEventLog(log, { drtmStart: 'ones' });
    expect([zero.dynamicLaunch, zero.launchRecord, ones_.dynamicLaunch, ones_.launchRecord]).toEqual([true, null, false, null]);
    for (const alg of banksOf(kind)) {
      const d20 = digestOf(recs[FIRMWARE.length] as Rec, FIRMWARE.length, alg);
      const d17 = digestOf(recs[FIRMWARE.length + 1] as Rec, FIRMWARE.length + 1, alg);
      expect(hex(zero.pcrs[alg]?.[20])).toBe(hex(H(alg, zeros(alg), d20)));
      expect(hex(zero.pcrs[alg]?.[17])).toBe(hex(H(alg, zeros(alg), d17)));
      expect(hex(zero.pcrs[alg]?.[21])).toBe(hex(zeros(alg)));
      expect(hex(ones_.pcrs[alg]?.[20])).toBe(hex(H(alg, ones(alg), d20)));
      expect(hex(ones_.pcrs[alg]?.[17])).toBe(hex(H(alg, ones(alg), d17)));
      expect(hex(ones_.pcrs[alg]?.[21])).toBe(hex(ones(alg)));
    }
  });
});
