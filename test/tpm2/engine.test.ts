/**
 * Engine-only tests with golden bytes: worked DRTM values (SHA of zeros ‖ SHA of the data), the
 * Xen behaviours of docs/tpm-quirks.md (hash-support probe, TPM2 log full, event-sequence digests,
 * PCR reset rules), snapshot/restore, SM3, and what swtpm's socket cannot carry
 * (commands shorter than 10 bytes, larger than the 4096-byte buffer).
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex, u32be } from '../../src/bytes/index.js';
import { createTpm2, TPM_CC, Tpm2Engine } from '../../src/tpm2/index.js';
import * as C from './support/cmd.js';
import { ALG } from './support/gen.js';
import { Client, HASH } from './support/session-client.js';

const rc = (r: Uint8Array): number => u32be(r, 6);
const MBI = Uint8Array.of(8, 0, 0, 0, 0, 0, 0, 0); // minimal Multiboot2 info: total_size 8, reserved 0

/** Digest list of a one-selection, n-PCR PCR_Read response (after header 10, counter 4, selection 10, count 4). */
function readDigests(r: Uint8Array): string[] {
  const out: string[] = [];
  const n = u32be(r, 24);
  let off = 28;
  for (let i = 0; i < n; i++) {
    const size = (r[off] ?? 0) * 256 + (r[off + 1] ?? 0);
    out.push(toHex(r.subarray(off + 2, off + 2 + size)));
    off += 2 + size;
  }
  return out;
}

describe('createTpm2 defaults (what a fresh swtpm/libtpms 0.9.2 allocates)', () => {
  it('all four banks allocated, started, PCR 17–22 = FF, PCR0 = 00', () => {
    const t = createTpm2();
    expect(t.banks()).toEqual(['sha1', 'sha256', 'sha384', 'sha512']);
    expect(t.implementedBanks()).toEqual(['sha1', 'sha256', 'sha384', 'sha512']);
    expect(t.started).toBe(true);
    const p = t.pcrs();
    expect(toHex(p.sha1?.[17] ?? new Uint8Array())).toBe('ff'.repeat(20));
    expect(toHex(p.sha256?.[0] ?? new Uint8Array())).toBe('00'.repeat(32));
    expect(toHex(p.sha512?.[23] ?? new Uint8Array())).toBe('00'.repeat(64));
  });
  it('banks option: sha1+sha256 only; startup:false needs Startup (TPM2_Startup(CLEAR) = 80 01 00 00 00 0C 00 00 01 44 00 00)', () => {
    const t = createTpm2({ banks: ['sha1', 'sha256'], startup: false });
    expect(t.banks()).toEqual(['sha1', 'sha256']);
    expect(toHex(t.execute(C.getRandom(1), 0))).toBe('80010000000a00000100'); // TPM_RC_INITIALIZE
    expect(toHex(t.execute(fromHex('80 01 00 00 00 0C 00 00 01 44 00 00'), 0))).toBe('80010000000a00000000');
    expect(toHex(t.execute(C.getCap(5, 0, 1), 0))).toBe('80010000002b00000000000000000500000004000403ffffff000b03ffffff000c03000000000d03000000');
  });
});

describe('dynamic launch vectors (ms-tpm-20-ref _TPM_Hash_End; worked values)', () => {
  it('DRTM without data: PCR17 = SHA1(0²⁰ ‖ SHA1("")) and the SHA-256 equivalent', () => {
    const t = createTpm2();
    expect([t.hashStart(), t.hashEnd()]).toEqual([0, 0]);
    expect(t.established).toBe(true);
    expect(readDigests(t.execute(C.pcrRead([{ hash: ALG.SHA1, bits: [17] }]), 0))).toEqual(['31a2dc4c22f9c5444a41625d05f95898e055f750']);
    expect(readDigests(t.execute(C.pcrRead([{ hash: ALG.SHA256, bits: [17] }]), 0))).toEqual(['1c9ecec90e28d2461650418635878a5c91e49f47586ecf75f2b0cbb94e897112']);
    // PCR 18–22 were FF and are now 0 (PCRResetDynamics)
    expect(readDigests(t.execute(C.pcrRead([{ hash: ALG.SHA1, bits: [18, 22] }]), 0))).toEqual(['00'.repeat(20), '00'.repeat(20)]);
  });
  it('Xen early path: event sequence of the minimal MBI into PCR 18 at locality 2 (HashSequenceStart/SequenceUpdate/EventSequenceComplete)', () => {
    const t = createTpm2();
    t.hashStart();
    t.hashEnd();
    // HashSequenceStart(TPM_ALG_NULL), built from the Part 3 layout → handle 0x80000000
    expect(toHex(t.execute(fromHex('80 01 00 00 00 0E 00 00 01 86 00 00 00 10'), 2))).toBe('80010000000e0000000080000000');
    const r = t.execute(C.eventSequenceComplete(18, 0x80000000, MBI), 2);
    // 8002 | size | rc 0 | paramSize | count 4 | sha1 ‖ digest | sha256 ‖ … | sha384 | sha512 | 2 × (0000 01 0000)
    expect(rc(r)).toBe(0);
    expect(u32be(r, 14)).toBe(4);
    expect(toHex(r.subarray(18, 40))).toBe('0004' + '29e24643a6328cb4ea893738b89c63b842ce24e7');
    expect(toHex(r.subarray(40, 74))).toBe('000b' + '6cc16abd70eefb90dc0ba0d14fb088630873b2c6ad943f7442356735984c35a3');
    expect(toHex(r.subarray(r.length - 10))).toBe('00000100000000010000');
    expect(readDigests(t.execute(C.pcrRead([{ hash: ALG.SHA1, bits: [18] }]), 0))).toEqual(['d35169bca492f3acdd89f5b3ebfccc65867cf59f']);
    expect(readDigests(t.execute(C.pcrRead([{ hash: ALG.SHA256, bits: [18] }]), 0))).toEqual(['e59a3282a70f80ce76b15579f204b427d7f65391572ac49d8bf7aac61d1536c3']);
    // the sequence was flushed
    expect(rc(t.execute(C.sequenceUpdate(0x80000000, MBI), 2))).toBe(0x910);
  });
  it('EventSequenceComplete with 0 data bytes is 42 bytes: header, 2 handles, authSize, 2 PW sessions, TPM2B size', () => {
    const t = createTpm2();
    t.execute(C.hashSequenceStart(ALG.NULL), 2);
    const c = C.eventSequenceComplete(18, 0x80000000, new Uint8Array(0), [{ attributes: 0 }, { attributes: 0 }]);
    // header 10 | pcr 18 | seq | authorizationSize 18 | 2 × 9-byte PW session | TPM2B size 0
    expect(toHex(c)).toBe('80020000002a00000185' + '00000012' + '80000000' + '00000012' + '400000090000000000'.repeat(2) + '0000');
    expect(rc(t.execute(c, 2))).toBe(0);
  });
  it('OneDigest (01 00…00) extended into a zeroed SHA-1 PCR gives SHA1(0²⁰ ‖ 01 00…00) (OneDigest placeholder)', () => {
    const t = createTpm2();
    t.hashStart();
    t.hashEnd();
    const one = new Uint8Array(20);
    one[0] = 1;
    expect(rc(t.execute(C.pcrExtend(18, [{ alg: ALG.SHA1, digest: one }]), 2))).toBe(0);
    expect(readDigests(t.execute(C.pcrRead([{ hash: ALG.SHA1, bits: [18] }]), 0))).toEqual(['14326af4714bd0fa442f4d482befc95233a5b3a9']);
  });
  it('H-CRTM: DRTM before Startup sets PCR0 = H(0…04 ‖ H(data)) and Startup leaves it', () => {
    const t = createTpm2({ startup: false });
    t.hashStart();
    t.hashData(MBI);
    t.hashEnd();
    expect(rc(t.execute(C.startup(0), 3))).toBe(0);
    const pcr0 = readDigests(t.execute(C.pcrRead([{ hash: ALG.SHA1, bits: [0] }]), 0))[0];
    const want = new Uint8Array(20);
    want[19] = 4;
    const expected = createHash('sha1').update(want).update(createHash('sha1').update(MBI).digest()).digest('hex');
    expect(pcr0).toBe(expected);
  });
});

describe('Xen behaviours an emulator must reproduce (docs/tpm-quirks.md)', () => {
  it('hash-support probe: the TPM_RH_NULL probe tests *implemented*, not *allocated*', () => {
    const t = createTpm2({ banks: ['sha1', 'sha256'] });
    expect(rc(t.execute(C.pcrExtend(C.RH_NULL, [{ alg: ALG.SHA384, digest: new Uint8Array(48) }]), 2))).toBe(0);
    expect(rc(t.execute(C.pcrExtend(C.RH_NULL, [{ alg: ALG.SM3, digest: new Uint8Array(32) }]), 2))).toBe(0x1c3);
    // …and the SHA-384 digest for the unallocated bank is dropped silently
    const before = t.pcrs();
    expect(rc(t.execute(C.pcrExtend(18, [{ alg: ALG.SHA384, digest: new Uint8Array(48) }]), 2))).toBe(0);
    expect(t.pcrs()).toEqual(before);
  });
  it('TPM2 log full: PCR_Extend with zero digests succeeds and changes nothing (counter included)', () => {
    const t = createTpm2();
    const counter = (): number => u32be(t.execute(C.pcrRead([]), 0), 10);
    const c0 = counter();
    expect(rc(t.execute(C.pcrExtend(18, []), 2))).toBe(0);
    expect(counter()).toBe(c0);
  });
  it('event-sequence digests: EventSequenceComplete returns SHA1, SHA256, SHA384, SHA512 in that order', () => {
    const t = createTpm2();
    t.execute(C.hashSequenceStart(ALG.NULL), 2);
    const r = t.execute(C.eventSequenceComplete(C.RH_NULL, 0x80000000, MBI), 2);
    const algs: number[] = [];
    let off = 18;
    const size: Record<number, number> = { 4: 20, 11: 32, 12: 48, 13: 64 };
    for (let i = 0; i < 4; i++) {
      const a = (r[off] ?? 0) * 256 + (r[off + 1] ?? 0);
      algs.push(a);
      off += 2 + (size[a] ?? 0);
    }
    expect(algs).toEqual([ALG.SHA1, ALG.SHA256, ALG.SHA384, ALG.SHA512]);
  });
  it('PCR reset rules: PCR_Reset refuses locality 4 and PCR 17–19; 20–22 reset at locality 2 only; result 0', () => {
    const t = createTpm2();
    expect(rc(t.execute(C.pcrReset(17), 4))).toBe(0x907);
    expect(rc(t.execute(C.pcrReset(19), 3))).toBe(0x907);
    expect(rc(t.execute(C.pcrReset(20), 3))).toBe(0x907); // libtpms 0.9.2: 20–22 reset at 2 and 4 only
    expect(rc(t.execute(C.pcrReset(20), 2))).toBe(0);
    expect(readDigests(t.execute(C.pcrRead([{ hash: ALG.SHA1, bits: [20] }]), 0))).toEqual(['00'.repeat(20)]);
  });
});

describe('engine edges swtpm’s socket cannot carry', () => {
  it('commands shorter than a header: libtpms ExecuteCommand answers TPM_RC_INSUFFICIENT / BAD_TAG', () => {
    const t = createTpm2();
    expect(toHex(t.execute(new Uint8Array(0), 0))).toBe('80010000000a0000009a');
    expect(toHex(t.execute(fromHex('8001'), 0))).toBe('80010000000a0000009a');
    expect(toHex(t.execute(fromHex('8001 00000008 0000'), 0))).toBe('80010000000a0000009a');
    expect(toHex(t.execute(fromHex('8001 00000009 0000'), 0))).toBe('80010000000a00000142');
    expect(toHex(t.execute(fromHex('c1'), 0))).toBe('80010000000a0000009a');
  });
  it('commands larger than MAX_COMMAND_SIZE (4096) → TPM_RC_COMMAND_SIZE', () => {
    const t = createTpm2();
    const big = C.cmd({ cc: TPM_CC.GetTestResult, params: new Uint8Array(4100) });
    expect(toHex(t.execute(big, 0))).toBe('80010000000a00000142');
  });
  it('commands libtpms implements but this engine does not → TPM_RC_COMMAND_CODE', () => {
    const t = createTpm2();
    // TPM2_Clear, TPM2_CreatePrimary, TPM2_Create, TPM2_ContextSave, TPM2_ReadClock, TPM2_PolicyPCR
    for (const cc of [0x00000126, 0x00000131, 0x00000153, 0x00000162, 0x00000181, 0x0000017f]) {
      expect(toHex(t.execute(C.cmd({ cc }), 0))).toBe('80010000000a00000143');
    }
    expect(Tpm2Engine.implementedCommands()).toHaveLength(18);
  });
  it('resetEstablishment: localities 3 and 4 only, else TPM_BAD_LOCALITY 0x3D (swtpm ctrl RESET_TPMESTABLISHED)', () => {
    const t = createTpm2();
    t.hashStart();
    expect(t.resetEstablishment(2)).toBe(0x3d);
    expect(t.established).toBe(true);
    expect(t.resetEstablishment(3)).toBe(0);
    expect(t.established).toBe(false);
  });
  it('rcName is on the class', () => {
    expect(Tpm2Engine.rcName(0x1c4)).toBe('TPM_RC_VALUE (parameter 1)');
  });
});

describe('snapshot / restore', () => {
  it('mid-sequence and mid-DRTM state survives JSON and continues identically', () => {
    const a = createTpm2();
    a.execute(C.hashSequenceStart(ALG.SHA256, Uint8Array.of(9)), 0);
    a.execute(C.sequenceUpdate(0x80000000, MBI, [{ password: Uint8Array.of(9) }]), 0);
    a.execute(C.pcrExtend(16, [{ alg: ALG.SHA1, digest: new Uint8Array(20).fill(3) }]), 0);
    a.execute(C.pcrAllocate([{ hash: ALG.SHA512, bits: [] }]), 0);
    a.hashStart();
    a.hashData(MBI);
    const b = Tpm2Engine.restore(JSON.parse(JSON.stringify(a.snapshot())));
    for (const t of [a, b]) t.hashEnd();
    const script = [
      C.sequenceComplete(0x80000000, MBI, C.RH_NULL, [{ password: Uint8Array.of(9) }]),
      C.pcrRead([{ hash: ALG.SHA1, bits: [16, 17] }, { hash: ALG.SHA512, bits: [17] }]),
      C.getCap(1, 0x80000000, 5),
    ];
    for (const c of script) expect(toHex(b.execute(c, 0))).toBe(toHex(a.execute(c, 0)));
    a.init();
    b.init();
    expect(b.banks()).toEqual(a.banks());
    expect(a.banks()).toEqual(['sha1', 'sha256', 'sha384']);
  });
  it('restore rejects what is not a snapshot', () => {
    expect(() => Tpm2Engine.restore({ version: 9 })).toThrow(TypeError);
    // version 3 kept 24 hex strings per bank (version 4 joins them); version 2 (before authorization
    // sessions) reads as version 3 without sessions; a mix is refused
    const src = createTpm2();
    expect(rc(src.execute(C.pcrExtend(16, [{ alg: ALG.SHA256, digest: new Uint8Array(32).fill(7) }]), 0))).toBe(0);
    const cur = src.snapshot() as unknown as Record<string, unknown> & { pcrValues: string[]; algs: string[] };
    const split = (hex: string): string[] => Array.from({ length: 24 }, (_, i) => hex.slice((i * hex.length) / 24, ((i + 1) * hex.length) / 24));
    const v3: Record<string, unknown> = { ...cur, version: 3, pcrValues: cur.pcrValues.map(split) };
    expect(Tpm2Engine.restore(v3).pcrs()).toEqual(src.pcrs());
    expect(Tpm2Engine.restore(JSON.parse(JSON.stringify(v3))).snapshot()).toEqual(cur);
    expect(() => Tpm2Engine.restore({ ...v3, pcrValues: cur.pcrValues })).toThrow(TypeError);
    expect(() => Tpm2Engine.restore({ ...cur, pcrValues: cur.pcrValues.map((h) => h.slice(2)) })).toThrow(TypeError);
    const v2: Record<string, unknown> = { ...v3, version: 2 };
    for (const k of ['sessions', 'contextArray', 'lockoutAuthEnabled', 'exclusiveAuditSession']) delete v2[k];
    const t = Tpm2Engine.restore(v2);
    expect(t.pcrs()).toEqual(src.pcrs());
    expect(toHex(t.execute(C.getCap(1, 0x02000000, 5), 0))).toBe('80010000001300000000000000000100000000');
    expect(() => Tpm2Engine.restore({ ...v2, contextArray: [] })).toThrow(TypeError);
  });
  it('a snapshot leaves out the values of banks with no PCR allocated; restored, the TPM answers the same across PCR_Allocate, TPM_Init and Startup', () => {
    const a = createTpm2({ banks: ['sha1', 'sha256'] });
    expect(rc(a.execute(C.pcrExtend(16, [{ alg: ALG.SHA256, digest: new Uint8Array(32).fill(9) }]), 0))).toBe(0);
    const snap = a.snapshot() as { algs: string[]; pcrValues: string[] };
    expect(snap.algs).toEqual(['sha1', 'sha256', 'sha384', 'sha512']);
    expect(snap.pcrValues.map((h) => h.length)).toEqual([24 * 40, 24 * 64, 0, 0]);
    const b = Tpm2Engine.restore(JSON.parse(JSON.stringify(snap)));
    expect(b.pcrs()).toEqual(a.pcrs());
    const all = Array.from({ length: 24 }, (_, i) => i);
    const read = C.pcrRead([{ hash: ALG.SHA384, bits: [0, 16, 17] }, { hash: ALG.SHA256, bits: [16] }]);
    const script: (Uint8Array | 'init')[] = [
      C.pcrAllocate([{ hash: ALG.SHA384, bits: all }]),
      C.shutdown(0),
      'init',
      read,
      C.startup(0),
      read,
      C.pcrExtend(16, [{ alg: ALG.SHA384, digest: new Uint8Array(48).fill(3) }]),
      read,
    ];
    for (const c of script) {
      if (c === 'init') {
        a.init();
        b.init();
        continue;
      }
      expect(toHex(b.execute(c, 0))).toBe(toHex(a.execute(c, 0)));
    }
    expect(a.banks()).toContain('sha384');
    expect(b.pcrs()).toEqual(a.pcrs());
    // A bank with PCRs allocated must carry its values.
    expect(() => Tpm2Engine.restore({ ...snap, pcrValues: [snap.pcrValues[0], '', '', ''] })).toThrow(TypeError);
  });
  it('authorization sessions survive snapshot/restore: the restored TPM accepts the next HMAC and rolls the same way', async () => {
    const a = createTpm2();
    const ca = new Client(async (x) => a.execute(x, 0));
    await ca.start('hmac', { bind: 16, sym: { alg: 'aes' } });
    await ca.start('audit', { hash: HASH.sha384 });
    await ca.command({ cc: TPM_CC.GetRandom, params: Uint8Array.of(0, 4), sessions: [{ name: 'audit', attrs: 0x81 }] });
    const snap = JSON.parse(JSON.stringify(a.snapshot())) as Record<string, unknown>;
    const b = Tpm2Engine.restore(snap);
    const cb = new Client(async (x) => b.execute(x, 0));
    for (const [k, v] of ca.sessions) cb.sessions.set(k, { ...v });
    const ev = (c: Client) =>
      c.command({ cc: TPM_CC.PCR_Event, handles: [16], authHandles: 1, params: Uint8Array.of(0, 3, 1, 2, 3), sessions: [{ name: 'hmac', attrs: 0x21, bound: true }, { name: 'audit', attrs: 0x83 }] });
    const [ra, rb] = [await ev(ca), await ev(cb)];
    expect(ra.rc).toBe(0);
    expect(rb.masked).toBe(ra.masked);
    expect(rb.params).toBe(ra.params);
    expect(ra.hmacOk && rb.hmacOk).toBe(true);
    // strict restore: a session that no context entry names, a nonce of the wrong size, an unknown type
    const sessions = snap.sessions as Record<string, unknown>[];
    const bad = [
      { ...snap, contextArray: new Array(64).fill(0) },
      { ...snap, sessions: [{ ...sessions[0], nonceTPM: '00' }, sessions[1], sessions[2]] },
      { ...snap, sessions: [{ ...sessions[0], type: 'x' }, sessions[1], sessions[2]] },
      { ...snap, sessions: [{ ...sessions[0], symmetric: { algorithm: 0x99, keyBits: 0, mode: 0 } }, sessions[1], sessions[2]] },
      { ...snap, sessions: sessions.slice(0, 2) },
      { ...snap, lockoutAuthEnabled: 'yes' },
      { ...snap, exclusiveAuditSession: 7 },
    ];
    for (const v of bad) expect(() => Tpm2Engine.restore(v)).toThrow(TypeError);
  });
});

describe('SM3_256 as an extra bank (not in libtpms 0.9.2, so engine-only)', () => {
  it('implements, allocates, extends and reports SM3', () => {
    const t = createTpm2({ banks: ['sha256', 'sm3_256'] });
    expect(t.implementedBanks()).toEqual(['sha1', 'sha256', 'sha384', 'sha512', 'sm3_256']);
    expect(t.banks()).toEqual(['sha256', 'sm3_256']);
    expect(rc(t.execute(C.pcrExtend(16, [{ alg: ALG.SM3, digest: new Uint8Array(32) }]), 0))).toBe(0);
    const ev = t.execute(C.pcrEvent(C.RH_NULL, MBI), 0);
    expect(u32be(ev, 14)).toBe(5);
    const algs = t.execute(C.getCap(0, 0x12, 1), 0);
    expect(toHex(algs.subarray(15))).toBe('00000001' + '0012' + '00000004');
    t.hashStart();
    t.hashEnd();
    const sm3 = createHash('sm3');
    const inner = createHash('sm3').update(new Uint8Array(0)).digest();
    expect(toHex(t.pcrs().sm3_256?.[17] ?? new Uint8Array())).toBe(sm3.update(new Uint8Array(32)).update(inner).digest('hex'));
  });
});
