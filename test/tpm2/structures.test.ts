/**
 * Structure codecs with golden bytes (TPM 2.0 Library Part 2 §10; commands built from the Part 3 layouts).
 * Round trip for each codec and a negative table for each decoder.
 */
import { describe, expect, it } from 'vitest';
import { BeWriter, fromHex, toHex } from '../../src/bytes/index.js';
import { HASH_ALGS } from '../../src/hash/index.js';
import {
  decodeDigestValues,
  decodePcrSelectionList,
  encodeDigestValues,
  encodePcrSelectionList,
  hashSuite,
  RcFault,
  TpmReader,
} from '../../src/tpm2/index.js';
import { decodeTpm2b } from '../../src/tpm2/structures.js';

const LIBTPMS = hashSuite(HASH_ALGS.filter((a) => a.name !== 'sm3_256'));
const rcOf = (f: () => unknown): number => {
  try {
    f();
  } catch (e) {
    if (e instanceof RcFault) return e.rc;
    throw e;
  }
  return 0;
};

describe('TPML_PCR_SELECTION (Part 2 §10.9.7)', () => {
  it('decodes the parameters of PCR_Read(SHA256, {17,18})', () => {
    const cmd = fromHex('80 01 00 00 00 14 00 00 01 7E 00 00 00 01 00 0B 03 00 00 06');
    const r = new TpmReader(cmd, 10);
    const sels = decodePcrSelectionList(r, LIBTPMS);
    // count 1 | hash TPM_ALG_SHA256 | sizeofSelect 3 | 00 00 06 = PCR 17 (bit 1 of byte 2) and 18 (bit 2)
    expect(sels).toEqual([{ hash: 0x000b, sizeofSelect: 3, pcrSelect: Uint8Array.of(0, 0, 6) }]);
    expect(r.remaining).toBe(0);
    const w = new BeWriter();
    encodePcrSelectionList(w, sels);
    expect(toHex(w.finish())).toBe('00000001000b03000006');
  });
  const bad: [string, string, number][] = [
    ['truncated count', '000000', 0x09a],
    ['count 5 > HASH_COUNT', '00000005', 0x095],
    ['SM3 is not implemented by libtpms 0.9.2', '00000001001203ffffff', 0x083],
    ['TPM_ALG_NULL not allowed', '00000001001003ffffff', 0x083],
    ['sizeofSelect 2 < PCR_SELECT_MIN', '00000001000402ffff', 0x084],
    ['sizeofSelect 4 > PCR_SELECT_MAX', '00000001000404ffffffff', 0x084],
    ['truncated bitmap', '00000001000403ffff', 0x09a],
  ];
  it.each(bad)('%s → 0x%s', (_n, hex, rc) => {
    expect(rcOf(() => decodePcrSelectionList(new TpmReader(fromHex(hex)), LIBTPMS))).toBe(rc);
  });
});

describe('TPML_DIGEST_VALUES (Part 2 §10.9.8)', () => {
  it('PCR_Extend with SHA1 and SHA256 is 87 bytes; its digests round-trip', () => {
    const w = new BeWriter()
      .u16(0x8002).u32(87).u32(0x182) // header
      .u32(18) // pcrHandle
      .u32(9).u32(0x40000009).u16(0).u8(0).u16(0) // authorizationSize 9, TPM_RS_PW, empty nonce, attrs 0, empty hmac
      .u32(2).u16(0x0004).bytes(new Uint8Array(20).fill(1)).u16(0x000b).bytes(new Uint8Array(32).fill(2));
    const cmd = w.finish();
    expect(cmd.length).toBe(87);
    // 31 bytes = header 10 + handle 4 + authSize 4 + session 9 + count 4 (Part 3 §22.2); the list starts at 27
    const d = decodeDigestValues(new TpmReader(cmd, 27), LIBTPMS);
    expect(d.map((x) => [x.hashAlg, x.digest.length])).toEqual([[4, 20], [11, 32]]);
    const out = new BeWriter();
    encodeDigestValues(out, d);
    expect(out.finish()).toEqual(cmd.subarray(27));
  });
  const bad: [string, string, number][] = [
    ['count 5 > HASH_COUNT', '00000005', 0x095],
    ['SM3 digest', `000000010012${'00'.repeat(32)}`, 0x083],
    ['unknown algorithm', `000000010027${'00'.repeat(32)}`, 0x083],
    ['digest shorter than the algorithm', `000000010004${'00'.repeat(19)}`, 0x09a],
  ];
  it.each(bad)('%s → 0x%s', (_n, hex, rc) => {
    expect(rcOf(() => decodeDigestValues(new TpmReader(fromHex(hex)), LIBTPMS))).toBe(rc);
  });
  it('count 0 is legal (ms-tpm-20-ref PCR_Extend.c loops over count)', () => {
    expect(decodeDigestValues(new TpmReader(fromHex('00000000')), LIBTPMS)).toEqual([]);
  });
});

describe('TPM2B (Part 2 §10.4)', () => {
  it('size then bytes; oversize → TPM_RC_SIZE; short → TPM_RC_INSUFFICIENT', () => {
    expect(decodeTpm2b(new TpmReader(fromHex('0003616263')), 64)).toEqual(Uint8Array.of(0x61, 0x62, 0x63));
    expect(rcOf(() => decodeTpm2b(new TpmReader(fromHex('0041')), 64))).toBe(0x095);
    expect(rcOf(() => decodeTpm2b(new TpmReader(fromHex('000361')), 64))).toBe(0x09a);
  });
});
