/**
 * The pieces under the launch prediction: the engines' launch from given digests (the same state as
 * the three DRTM cycles on data with those digests), the part collector (host-hashed parts are never
 * kept, an MBI keeps only its first total_size bytes), and the manifest's variant combinations.
 */
import { createHash } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/tpm/factory.js';
import type { BankName } from '../../src/hash/index.js';
import { closeHashPool } from '../../src/hash/parallel.js';
import { combinations, parseManifest, variantCount } from '../../src/launch/manifest.js';
import { PartCollector } from '../../src/launch/parts.js';
import { evtInfoData, intelInfoCopy, mbiBytes } from '../../src/launch/apply.js';
import { DomainError } from '../../src/errors.js';

afterAll(() => closeHashPool());

const H = (b: string, d: Uint8Array) => new Uint8Array(createHash(b).update(d).digest());

describe('engine: dynamic launch from digests', () => {
  const cases: [string, '1.2' | '2.0', BankName[]][] = [
    ['TPM 1.2', '1.2', ['sha1']],
    ['TPM 2.0 sha1+sha256', '2.0', ['sha1', 'sha256']],
    ['TPM 2.0 four banks', '2.0', ['sha1', 'sha256', 'sha384', 'sha512']],
  ];
  for (const [name, family, banks] of cases) {
    it(`${name}: the same PCRs and established flag as HASH_START/DATA/END on the data`, () => {
      const data = new TextEncoder().encode('the SINIT ACM');
      const a = createEngine(family, { startup: true, banks });
      const b = createEngine(family, { startup: true, banks });
      // Something in PCR 17/18 first: the launch must reset them.
      expect(a.hashStart() | a.hashData(new Uint8Array([1])) | a.hashEnd()).toBe(0);
      expect(b.hashStart() | b.hashData(new Uint8Array([1])) | b.hashEnd()).toBe(0);
      expect(a.hashStart() | a.hashData(data) | a.hashEnd()).toBe(0);
      expect(b.hashStartEndDigests?.(Object.fromEntries(banks.map((x) => [x, H(x, data)])))).toBe(0);
      expect(b.pcrs()).toEqual(a.pcrs());
      expect(b.established).toBe(a.established);
      // And a later real launch still works (no context left open).
      expect(b.hashStart() | b.hashData(data) | b.hashEnd()).toBe(0);
      expect(a.hashStart() | a.hashData(data) | a.hashEnd()).toBe(0);
      expect(b.pcrs()).toEqual(a.pcrs());
    });
  }

  it('a TPM 2.0 launch needs a digest for every allocated bank', () => {
    const e = createEngine('2.0', { startup: true, banks: ['sha1', 'sha256'] });
    expect(() => e.hashStartEndDigests?.({ sha1: new Uint8Array(20) })).toThrow(/sha256/);
  });
});

async function* once(b: Uint8Array): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < b.length; i += 1000) yield b.subarray(i, i + 1000);
  if (b.length === 0) yield b;
}
const limits = { maxUploadBytes: 1 << 24, maxTpmHashingBytes: 1 << 20, maxDrtmBytes: 1 << 20, maxEventLogBytes: 1 << 20 };

describe('part collector', () => {
  const m = parseManifest({ sinit: { part: 's' }, mbi: { part: 'm' }, entries: [{ part: 'k', pcr: 17 }, { part: 'k', pcr: 18 }, { part: 'm', pcr: 18 }] });

  it('keeps no host-hashed bytes, the MBI only up to total_size, and hashes each part once', async () => {
    const c = new PartCollector(m, ['sha1', 'sha256'], limits);
    expect(c.expected.sort()).toEqual(['k', 'm', 's']);
    const k = new Uint8Array(50_000).fill(7);
    const pk = await c.add('k', once(k));
    expect(pk.bytes).toBeUndefined();
    expect(Buffer.from(pk.digests!.get('sha256')!).toString('hex')).toBe(Buffer.from(H('sha256', k)).toString('hex'));
    const mbi = new Uint8Array(10_000).fill(9);
    new DataView(mbi.buffer).setUint32(0, 3000, true);
    const pm = await c.add('m', once(mbi));
    expect(pm.bytes?.length).toBe(3000);
    expect(pm.size).toBe(10_000);
    // Named by an entry too: hashed whole for the entry.
    expect(Buffer.from(pm.digests!.get('sha1')!)).toEqual(Buffer.from(H('sha1', mbi)));
    expect(mbiBytes(pm).total).toBe(3000);
    await expect(c.add('k', once(k))).rejects.toThrow(/twice/);
    await expect(c.add('zz', once(k))).rejects.toThrow(/not used/);
    expect(() => c.finish()).toThrow(/"s".*missing/);
    await c.add('s', once(new Uint8Array(0)));
    expect([...c.finish().keys()].sort()).toEqual(['k', 'm', 's']);
  });

  it('an MBI declaring more than MAX_TPM_HASHING_BYTES is refused while it streams', async () => {
    const c = new PartCollector(m, ['sha1'], { ...limits, maxTpmHashingBytes: 100 });
    const mbi = new Uint8Array(400);
    new DataView(mbi.buffer).setUint32(0, 101, true);
    await expect(c.add('m', once(mbi))).rejects.toSatisfy((e: unknown) => e instanceof DomainError && e.kind === 'payload-too-large');
  });
});

describe('seed rules as functions', () => {
  it('INTEL_INFO: 560 zeroes 8–23, 552 zeroes 8–15, nothing else changes', () => {
    for (const [size, end] of [[560, 24], [552, 16]] as const) {
      const b = new Uint8Array(size).fill(0xaa);
      new DataView(b.buffer).setUint32(0, 4, true);
      new DataView(b.buffer).setUint32(4, size, true);
      const { bytes } = intelInfoCopy({ name: 'ii', size, bytes: b, whole: true });
      for (let i = 0; i < size; i++) expect(bytes[i], `byte ${i}`).toBe(i >= 8 && i < end ? 0 : b[i]);
    }
  });

  it('evt_info: strnlen(evt_info, 32) bytes', () => {
    const enc = (s: string) => new TextEncoder().encode(s);
    expect(evtInfoData(enc('a'.repeat(31))).data.length).toBe(31);
    expect(evtInfoData(enc('a'.repeat(32))).data.length).toBe(32);
    const t = evtInfoData(enc('a'.repeat(40)));
    expect(t.data.length).toBe(32);
    expect(t.notes.join()).toMatch(/truncated/);
    expect(new TextDecoder().decode(evtInfoData(enc('ab\0cd')).data)).toBe('ab');
  });

  it('variants: the product of the alternatives, first slot slowest', () => {
    const m = parseManifest({ sinit: { part: ['s1', 's2'] }, mbi: { part: 'm' }, entries: [{ part: ['a', 'b', 'c'], pcr: 17 }] });
    expect(variantCount(m)).toBe(6);
    expect(combinations(m).map((c) => `${c[0]}/${c[2]}`)).toEqual(['s1/a', 's1/b', 's1/c', 's2/a', 's2/b', 's2/c']);
  });
});
