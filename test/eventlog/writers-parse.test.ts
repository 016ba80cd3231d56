import { describe, expect, it } from 'vitest';
import { concatBytes, LeWriter, toHex } from '../../src/bytes/index.js';
import { digest, extendValue, sha1, type BankName } from '../../src/hash/index.js';
import { EV, SLAUNCH_EVTYPE, TXT_EVTYPE } from '../../src/eventlog/constants.js';
import { parseEventLog } from '../../src/eventlog/parse.js';
import { replayEventLog } from '../../src/eventlog/replay.js';
import { serializeEventLog } from '../../src/eventlog/serialize.js';
import { encodeSpecIdEvent00 } from '../../src/eventlog/spec-id.js';
import { Tcg2Log, oneDigest } from '../../src/eventlog/tcg2.js';
import { TxtContainerLog } from '../../src/eventlog/txt-container.js';

const enc = new TextEncoder();
const zero = (n: number): Uint8Array => new Uint8Array(n);
const ones = (n: number): Uint8Array => new Uint8Array(n).fill(0xff);

describe('writers → parser → replay (TXT container and TCG2 log; PCR chains of the Xen series)', () => {
  it('TCG2 writer output parses back, round-trips and replays per bank, placeholder banks included', () => {
    const banks: BankName[] = ['sha1', 'sha256', 'sha384'];
    const log = new Tcg2Log({ banks });
    const blobs = [enc.encode('mbi'), enc.encode('slrt intel info'), enc.encode('dom0 kernel')];
    const expected: Record<string, Uint8Array> = { sha1: zero(20), sha256: zero(32), sha384: zero(48) };
    for (const [i, b] of blobs.entries()) {
      const d = {
        sha1: digest('sha1', b),
        sha256: digest('sha256', b),
        // Xen 64-bit path: OneDigest placeholder for banks other than SHA1/SHA256 (docs/tpm-quirks.md#onedigest-placeholder).
        sha384: i === 0 ? digest('sha384', b) : oneDigest(48),
      };
      log.append({ pcr: 18, type: SLAUNCH_EVTYPE.SLAUNCH, digests: d, data: enc.encode('Measured') });
      for (const bank of banks) expected[bank] = extendValue(bank, expected[bank] as Uint8Array, d[bank as 'sha1']);
    }
    const parsed = parseEventLog(log.bytes());
    expect(parsed.format).toBe('tcg2-agile');
    expect(parsed.events.length).toBe(4);
    expect(serializeEventLog(parsed)).toEqual(log.bytes());
    const r = replayEventLog(parsed);
    expect(r.dynamicLaunch).toBe(true);
    for (const bank of banks) expect(toHex(r.pcrs[bank]?.[18] ?? zero(0)), bank).toBe(toHex(expected[bank] as Uint8Array));
    // The whole SLRT-sized buffer (zero padding after the last record) parses too.
    const padded = parseEventLog(log.bufferBytes());
    expect(padded.events.length).toBe(4);
    expect(padded.trailing.length).toBe(log.size - log.bytes().length);
    expect(serializeEventLog(padded)).toEqual(log.bufferBytes());
  });

  it('TXT container writer output (whole SLRT buffer) parses as txt-container and replays PCR 17/18 from zero', () => {
    const c = new TxtContainerLog({ size: 4096 });
    const acm = sha1(enc.encode('acm'));
    const mbi = sha1(enc.encode('mbi'));
    c.append({ pcr: 17, type: TXT_EVTYPE.HASH_START, digest: acm, data: zero(0) });
    c.append({ pcr: 18, type: SLAUNCH_EVTYPE.SLAUNCH, digest: mbi, data: zero(0) });
    const parsed = parseEventLog(c.bytes());
    expect(parsed.format).toBe('txt-container');
    expect(parsed.container?.embedded).toBe(false);
    expect(parsed.events.map((e) => [e.pcr, e.type])).toEqual([[17, 0x402], [18, 0x502]]);
    expect(serializeEventLog(parsed)).toEqual(c.bytes());
    const r = replayEventLog(parsed);
    expect(r.dynamicLaunch).toBe(true);
    expect(r.pcrs.sha1?.[17]).toEqual(extendValue('sha1', zero(20), acm));
    expect(r.pcrs.sha1?.[18]).toEqual(extendValue('sha1', zero(20), mbi));
    expect(r.pcrs.sha1?.[19]).toEqual(zero(20));
  });

  it('TXT container nested in a Spec ID Event00 header (secure-kernel-loader layout) parses and round-trips', () => {
    const c = new TxtContainerLog({ size: 4096 });
    c.append({ pcr: 17, type: SLAUNCH_EVTYPE.SLAUNCH, digest: sha1(enc.encode('skl')), data: enc.encode('SKINIT') });
    const containerHeader = c.bytes().subarray(0, 48);
    const events = c.usedBytes().subarray(48);
    const specData = encodeSpecIdEvent00({ platformClass: 0, specVersionMinor: 2, specVersionMajor: 1, specErrata: 1, uintnSize: 0, vendorInfo: containerHeader });
    const headerRecord = new LeWriter().u32(0).u32(EV.NO_ACTION).bytes(zero(20)).u32(specData.length).bytes(specData).finish();
    const log = concatBytes(headerRecord, events, zero(64));
    const parsed = parseEventLog(log);
    expect(parsed.format).toBe('txt-container');
    expect(parsed.container?.embedded).toBe(true);
    expect(parsed.specId00?.specVersionMajor).toBe(1);
    expect(parsed.events.length).toBe(2);
    expect(new TextDecoder().decode(parsed.events[1]?.data)).toBe('SKINIT');
    expect(serializeEventLog(parsed)).toEqual(log);
    expect(replayEventLog(parsed).pcrs.sha1?.[17]).toEqual(extendValue('sha1', zero(20), sha1(enc.encode('skl'))));
  });

  it('DRTM start rule: TPM 1.2 log without a launch starts PCR 17–22 at FF..FF; override available', () => {
    const rec = (pcr: number, type: number, d: Uint8Array): Uint8Array => new LeWriter().u32(pcr).u32(type).bytes(d).u32(0).finish();
    const d = sha1(enc.encode('x'));
    const noLaunch = parseEventLog(concatBytes(rec(0, EV.POST_CODE, d), rec(17, EV.ACTION, d)));
    expect(noLaunch.format).toBe('tpm12-sha1');
    const r = replayEventLog(noLaunch);
    expect(r.dynamicLaunch).toBe(false);
    expect(r.pcrs.sha1?.[17]).toEqual(extendValue('sha1', ones(20), d));
    expect(r.pcrs.sha1?.[20]).toEqual(ones(20));
    expect(replayEventLog(noLaunch, { drtmStart: 'zero' }).pcrs.sha1?.[17]).toEqual(extendValue('sha1', zero(20), d));
    const launch = parseEventLog(concatBytes(rec(0, EV.POST_CODE, d), rec(17, TXT_EVTYPE.HASH_START, d)));
    expect(replayEventLog(launch).pcrs.sha1?.[17]).toEqual(extendValue('sha1', zero(20), d));
  });
});

describe('writers: digest filled after append (Xen early paths, TPM 1.2 and TPM 2.0)', () => {
  it('TxtContainerLog.setDigest rewrites the Digest field in place', () => {
    const c = new TxtContainerLog({ size: 256 });
    c.append({ pcr: 18, type: SLAUNCH_EVTYPE.SLAUNCH, digest: zero(20), data: zero(0) });
    c.setDigest(0, ones(20));
    expect(parseEventLog(c.bytes()).events[0]?.digests[0]?.digest).toEqual(ones(20));
    expect(c.events()[0]?.digest).toEqual(ones(20));
    expect(() => c.setDigest(1, ones(20))).toThrow(RangeError);
  });

  it('Tcg2Log.setDigest rewrites one bank of one record', () => {
    const log = new Tcg2Log({ banks: ['sha1', 'sha256', 'sha384'] });
    log.append({ pcr: 18, type: SLAUNCH_EVTYPE.SLAUNCH, digests: [zero(20), zero(32), oneDigest(48)], data: enc.encode('x') });
    log.append({ pcr: 18, type: SLAUNCH_EVTYPE.SLAUNCH, digests: [zero(20), zero(32), oneDigest(48)], data: zero(0) });
    const real = digest('sha384', enc.encode('mbi'));
    log.setDigest(0, 'sha384', real);
    log.setDigest(1, 0x000b, ones(32));
    const p = parseEventLog(log.bytes());
    expect(p.events[1]?.digests.map((d) => d.digest)).toEqual([zero(20), zero(32), real]);
    expect(p.events[2]?.digests[1]?.digest).toEqual(ones(32));
    expect(Tcg2Log.fromJSON(log.toJSON()).bytes()).toEqual(log.bytes());
    expect(() => log.setDigest(0, 'sha512', zero(64))).toThrow(RangeError);
  });
});
