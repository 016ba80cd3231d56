/**
 * Pure engine tests (no swtpm needed): golden byte arrays with a comment per field, worked values
 * (SHA-1 of zeros ‖ SHA-1 of the data, computed by hand), and the paths the swtpm socket cannot carry (commands < 10 bytes or > 4105 bytes,
 * swtpm's in-band SET_LOCALITY ordinal).
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../src/bytes/index.js';
import type { Locality } from '../../src/tpm/engine.js';
import {
  LIBTPMS_ORDINALS,
  PCR_ATTRIBUTES,
  TPM12_IMPLEMENTED_ORDINALS,
  TPM_CAP,
  TPM_CAP_PROP,
  TPM_ORD,
  TPM_RC12,
  TPM_ST,
  createTpm12,
  returnCodeName,
} from '../../src/tpm12/index.js';
import {
  cat,
  cmd,
  extend,
  fill,
  getCapability,
  getTestResult,
  pcrRead,
  pcrReset,
  sha1Complete,
  sha1CompleteExtend,
  sha1Start,
  sha1Update,
  startup,
  u32,
} from './support/commands.js';

const run = (e: ReturnType<typeof createTpm12>, c: Uint8Array, loc: Locality = 0): string => toHex(e.execute(c, loc));
const sha1hex = (...parts: Uint8Array[]): string => {
  const h = createHash('sha1');
  for (const p of parts) h.update(p);
  return h.digest('hex');
};
/** 10-byte response: tag C4, paramSize 10, returnCode. */
const err = (rc: number): string => `00c4${'0000000a'}${rc.toString(16).padStart(8, '0')}`;

describe('TPM Main Part 3 wire format: golden responses', () => {
  it('TPM_Startup(ST_CLEAR) on a fresh TPM', () => {
    const e = createTpm12({ startup: false });
    expect(run(e, fromHex('00c1 0000000c 00000099 0001'))).toBe(
      '00c4' + // tag TPM_TAG_RSP_COMMAND
        '0000000a' + // paramSize 10
        '00000000', // returnCode TPM_SUCCESS
    );
  });

  it('TPM_PcrRead(17) before any dynamic launch reads FF..FF (libtpms TPM_PCR_Init)', () => {
    expect(run(createTpm12(), fromHex('00c1 0000000e 00000015 00000011'))).toBe(
      '00c4' + // tag
        '0000001e' + // paramSize 30
        '00000000' + // TPM_SUCCESS
        'ff'.repeat(20), // outDigest: PCR 17 initial value
    );
  });

  it('TPM_Extend(0, OneDigest) from zero = SHA1(0²⁰ ‖ 01 00…00)', () => {
    expect(run(createTpm12(), extend(0, cat(Uint8Array.of(1), fill(19, 0))))).toBe(
      '00c4' + // tag
        '0000001e' + // paramSize 30
        '00000000' + // TPM_SUCCESS
        '14326af4714bd0fa442f4d482befc95233a5b3a9', // outDigest = SHA1(0^20 ‖ 01 00..00)
    );
  });

  it('TPM_SHA1Start answers maxNumBytes 4032 (libtpms TPM_SHA1_MAXNUMBYTES)', () => {
    const e = createTpm12();
    expect(run(e, sha1Start())).toBe(
      '00c4' + // tag
        '0000000e' + // paramSize 14
        '00000000' + // TPM_SUCCESS
        '00000fc0', // maxNumBytes = 4096 − 64
    );
    expect(e.maxNumBytes).toBe(0x00000fc0);
  });

  it('TPM_GetCapability(TPM_CAP_PROPERTY, TPM_CAP_PROP_PCR) = 24 (Part 2 §21)', () => {
    expect(run(createTpm12(), getCapability(TPM_CAP.PROPERTY, u32(TPM_CAP_PROP.PCR)))).toBe(
      '00c4' + // tag
        '00000012' + // paramSize 18
        '00000000' + // TPM_SUCCESS
        '00000004' + // respSize
        '00000018', // 24 PCRs
    );
  });

  it('TPM_GetTestResult right after Startup reports libtpms limited mode', () => {
    expect(run(createTpm12(), getTestResult())).toBe(
      '00c4' + // tag
        '00000020' + // paramSize 32
        '00000000' + // TPM_SUCCESS
        '00000012' + // outDataSize 18
        toHex(new TextEncoder().encode('Shutdown 00000001\n')), // libtpms manufacturer text, testState 1
    );
  });

  it('an unknown ordinal keeps an auth tag in the reply (C2 → C5)', () => {
    expect(run(createTpm12(), cmd(0x00000001, new Uint8Array(0), 0x00c2))).toBe(
      '00c5' + // tag TPM_TAG_RSP_AUTH1_COMMAND
        '0000000a' + // paramSize 10
        '0000000a', // TPM_BAD_ORDINAL
    );
  });
});

describe('DRTM measurement paths: worked values', () => {
  it('a dynamic launch with no HASH_DATA gives PCR17 = 31a2dc4c… and sets tpmEstablished (libtpms TPM12_IO_Hash_End)', () => {
    const e = createTpm12();
    expect(e.established).toBe(false);
    expect([e.hashStart(), e.hashEnd()]).toEqual([0, 0]);
    expect(run(e, pcrRead(17)).slice(20)).toBe('31a2dc4c22f9c5444a41625d05f95898e055f750');
    expect(run(e, pcrRead(18)).slice(20)).toBe('00'.repeat(20));
    expect(e.established).toBe(true);
  });

  it('Xen early path: SHA1Start + SHA1CompleteExtend(18, MBI) at locality 2 (worked value)', () => {
    const e = createTpm12();
    e.hashStart();
    e.hashEnd();
    run(e, sha1Start(), 2);
    expect(run(e, sha1CompleteExtend(18, fromHex('0800000000000000')), 2)).toBe(
      '00c4' + // tag
        '00000032' + // paramSize 50
        '00000000' + // TPM_SUCCESS
        '29e24643a6328cb4ea893738b89c63b842ce24e7' + // hashValue = SHA1(MBI)
        'd35169bca492f3acdd89f5b3ebfccc65867cf59f', // outDigest = PCR18 extended from 0
    );
  });

  it('the SHA-1 thread hashes Update blocks then the final bytes', () => {
    const e = createTpm12();
    run(e, sha1Start());
    expect(run(e, sha1Update(fill(128, 0x61)))).toBe(err(TPM_RC12.SUCCESS));
    expect(run(e, sha1Complete(fromHex('616263'))).slice(20)).toBe(sha1hex(fill(128, 0x61), fromHex('616263')));
  });
});

describe('paths the swtpm socket cannot carry (documented differences of transport, not of the TPM)', () => {
  it.each([0, 1, 6, 9])('a %d-byte command answers TPM_BAD_PARAM_SIZE (swtpm waits for 10 bytes; its short-message answer is this)', (n) => {
    expect(run(createTpm12(), fromHex('00c10000000a00000015').subarray(0, n))).toBe(err(TPM_RC12.BAD_PARAM_SIZE));
  });

  it('ordinal 0x20001000 is unknown to the TPM (swtpm intercepts it as in-band SET_LOCALITY)', () => {
    expect(run(createTpm12(), cmd(0x20001000, Uint8Array.of(2)))).toBe(err(TPM_RC12.BAD_ORDINAL));
  });

  it('SHA1Update above maxNumBytes is TPM_SHA_ERROR and ends the thread (needs ≥ 4110 bytes, more than swtpm reads at once)', () => {
    const e = createTpm12();
    run(e, sha1Start());
    expect(run(e, sha1Update(fill(4096, 0)))).toBe(err(TPM_RC12.SHA_ERROR));
    expect(run(e, sha1Complete(new Uint8Array(0)))).toBe(err(TPM_RC12.SHA_THREAD));
  });

  it('TPM_GetRandom never returns more than 4082 bytes', () => {
    const r = createTpm12().execute(cmd(TPM_ORD.GetRandom, u32(0xffffffff)), 0);
    expect(r.length).toBe(4096);
    expect(toHex(r.subarray(0, 14))).toBe('00c400001000' + '00000000' + '00000ff2');
  });
});

describe('PC Client PCR attribute table (libtpms TPM_PCRAttributes_Init)', () => {
  const LOC = (...l: number[]): number => l.reduce((m, x) => m | (1 << x), 0);
  it.each([
    // [pcr, pcrReset, pcrResetLocal, pcrExtendLocal]
    [0, false, 0, LOC(0, 1, 2, 3, 4)],
    [15, false, 0, LOC(0, 1, 2, 3, 4)],
    [16, true, LOC(0, 1, 2, 3, 4), LOC(0, 1, 2, 3, 4)],
    [17, true, LOC(4), LOC(2, 3, 4)],
    [18, true, LOC(4), LOC(2, 3, 4)],
    [19, true, LOC(4), LOC(2, 3)],
    [20, true, LOC(2, 4), LOC(1, 2, 3)],
    [21, true, LOC(2), LOC(2)],
    [22, true, LOC(2), LOC(2)],
    [23, true, LOC(0, 1, 2, 3, 4), LOC(0, 1, 2, 3, 4)],
  ])('PCR %d', (pcr, reset, resetLocal, extendLocal) => {
    expect(PCR_ATTRIBUTES[pcr]).toEqual({ pcrReset: reset, pcrResetLocal: resetLocal, pcrExtendLocal: extendLocal });
  });

  it('reset values: 17–22 FF before a HASH_START, 00 after (TOSPresent); 16 and 23 always 00', () => {
    const e = createTpm12();
    run(e, extend(23, fill(20, 1)));
    expect(run(e, pcrReset(3, Uint8Array.of(0, 0, 0x02)), 4)).toBe(err(TPM_RC12.SUCCESS));
    expect(run(e, pcrReset(3, Uint8Array.of(0, 0, 0x80)), 0)).toBe(err(TPM_RC12.SUCCESS));
    expect(run(e, pcrRead(17)).slice(20)).toBe('ff'.repeat(20));
    expect(run(e, pcrRead(23)).slice(20)).toBe('00'.repeat(20));
    e.hashStart();
    e.hashEnd();
    expect(run(e, pcrReset(3, Uint8Array.of(0, 0, 0x02)), 4)).toBe(err(TPM_RC12.SUCCESS));
    expect(run(e, pcrRead(17)).slice(20)).toBe('00'.repeat(20));
    // PCR17 zero rule (docs/tpm-quirks.md#pcr-17-zero-rule)
    expect(run(e, extend(17, fill(20, 1)), 2)).toBe(err(TPM_RC12.BAD_LOCALITY));
    expect(run(e, extend(17, fill(20, 1)), 4).slice(0, 20)).toBe('00c40000001e00000000'); // locality 4 may
    expect(run(e, extend(17, fill(20, 1)), 2).slice(0, 20)).toBe('00c40000001e00000000'); // now non-zero: 2 may
  });
});

describe('engine contract (src/tpm/engine.ts)', () => {
  it('identity, buffer size, banks, PCR copies', () => {
    const e = createTpm12();
    expect([e.family, e.bufferSize, e.banks()]).toEqual(['1.2', 4096, ['sha1']]);
    const p = e.pcrs().sha1;
    expect(p?.length).toBe(24);
    p?.[0]?.fill(0x55);
    expect(toHex(e.pcrs().sha1?.[0] ?? new Uint8Array(0))).toBe('00'.repeat(20));
  });

  it('resetEstablishment: localities 3 and 4 only (libtpms TPM12_IO_TpmEstablished_Reset)', () => {
    const e = createTpm12();
    e.hashStart();
    e.hashEnd();
    expect([0, 1, 2].map((l) => e.resetEstablishment(l as Locality))).toEqual([0x3d, 0x3d, 0x3d]);
    expect(e.established).toBe(true);
    expect(e.resetEstablishment(3)).toBe(0);
    expect(e.established).toBe(false);
  });

  it('init(): back to post-init, PCRs to TPM_Init values, tpmEstablished kept', () => {
    const e = createTpm12();
    e.hashStart();
    e.hashEnd();
    e.init();
    expect(run(e, pcrRead(17))).toBe(err(TPM_RC12.INVALID_POSTINIT));
    expect(run(e, startup(TPM_ST.CLEAR))).toBe(err(TPM_RC12.SUCCESS));
    expect(run(e, pcrRead(17)).slice(20)).toBe('ff'.repeat(20));
    expect(e.established).toBe(true);
  });

  it('execute never throws and always answers a whole response, whatever the bytes', () => {
    const e = createTpm12();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.boolean(), fc.constantFrom<Locality>(0, 1, 2, 3, 4), (body, fix, loc) => {
        const c = fix && body.length >= 10 ? Uint8Array.from(body) : body;
        if (fix && c.length >= 10) new DataView(c.buffer).setUint32(2, c.length);
        const r = e.execute(c, loc);
        expect(r.length).toBeGreaterThanOrEqual(10);
        expect(new DataView(r.buffer, r.byteOffset).getUint32(2)).toBe(r.length);
      }),
      { numRuns: 2000 },
    );
  });

  it('the implemented ordinals are the ones in the brief', () => {
    expect(TPM12_IMPLEMENTED_ORDINALS.map((o) => o.toString(16))).toEqual(
      ['14', '15', '46', '50', '53', '54', '65', '97', '98', '99', 'a0', 'a1', 'a2', 'a3', 'c8', '4000000a', '4000000b'],
    );
  });
});

describe('return-code registry (TPM Main Part 2 §16, libtpms tpm_error.h)', () => {
  it.each([
    [0x00, 'TPM_SUCCESS'],
    [0x02, 'TPM_BADINDEX'],
    [0x0a, 'TPM_BAD_ORDINAL'],
    [0x19, 'TPM_BAD_PARAM_SIZE'],
    [0x1a, 'TPM_SHA_THREAD'],
    [0x1b, 'TPM_SHA_ERROR'],
    [0x26, 'TPM_INVALID_POSTINIT'],
    [0x32, 'TPM_NOTRESETABLE'],
    [0x33, 'TPM_NOTLOCAL'],
    [0x3d, 'TPM_BAD_LOCALITY'],
    [0x801, 'TPM_NEEDS_SELFTEST'],
    [0x12345, 'TPM_RC_0x00012345'],
  ])('0x%s → %s', (rc, name) => {
    expect(returnCodeName(rc)).toBe(name);
  });
  it('names and values are one-to-one', () => {
    const values = Object.values(TPM_RC12);
    expect(new Set(values).size).toBe(values.length);
  });
});

describe('ordinals libtpms implements but this engine does not (documented difference)', () => {
  // libtpms answers these with real authorisation sessions, keys, NV, counters, ... This engine
  // answers TPM_BAD_ORDINAL (keeping an auth tag, like an unused ordinal) after the common
  // preprocessing, so the SHA-1 thread and the self-test state still change as in libtpms.
  // TPM_CAP_ORD still reports libtpms' set, so GetCapability stays byte-identical to swtpm.
  const refused = [...LIBTPMS_ORDINALS].filter((o) => !TPM12_IMPLEMENTED_ORDINALS.includes(o));
  it('refused ordinals: TPM_BAD_ORDINAL, and the SHA-1 thread is gone afterwards', () => {
    expect(refused.length).toBeGreaterThan(90);
    const e = createTpm12();
    for (const o of refused) {
      e.execute(sha1Start(), 0);
      expect(run(e, cmd(o))).toBe(err(TPM_RC12.BAD_ORDINAL));
      expect(run(e, sha1Complete(new Uint8Array(0)))).toBe(err(TPM_RC12.SHA_THREAD));
    }
  });
});
