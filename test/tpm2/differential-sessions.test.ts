/**
 * Authorization sessions, differential: the same session scripts run against the engine and a
 * fresh swtpm 0.7.1 (libtpms 0.9.2). A test-side client (support/session-client.ts, written from
 * TPM 2.0 Part 1 §19/§21) computes each TPM's command HMACs from the nonces that TPM returned and
 * checks every response HMAC; responses are compared byte for byte with nonceTPM, HMAC, random and
 * encrypted bytes masked (decrypted parameters are compared in the clear).
 */
import { afterAll, expect, it } from 'vitest';
import { BeWriter } from '../../src/bytes/index.js';
import { createTpm2, Tpm2Engine } from '../../src/tpm2/index.js';
import { describeWithSwtpm, Swtpm } from '../support/swtpm.js';
import { mulberry32 } from './support/gen.js';
import { Client, HASH, SIZE, type CmdSpec, type Outcome, type Sym, type Use } from './support/session-client.js';

const PCR_EVENT = 0x13c;
const PCR_EXTEND = 0x182;
const PCR_ALLOCATE = 0x12b;
const HASH_SEQ_START = 0x186;
const SEQ_UPDATE = 0x15c;
const SEQ_COMPLETE = 0x13e;
const EVENT_SEQ_COMPLETE = 0x185;
const GET_RANDOM = 0x17b;
const HASH_CMD = 0x17d;
const GET_CAP = 0x17a;
const FLUSH = 0x165;
const RH_NULL = 0x40000007;
const RH_PLATFORM = 0x4000000c;
const RH_OWNER = 0x40000001;
const RH_LOCKOUT = 0x4000000a;
const SEQ = 0x80000000;
const EMPTY = new Uint8Array(0);
const CONT = 0x01;
const DEC = 0x20;
const ENC = 0x40;
const AUDIT = 0x80;
const AUDIT_EXCL = 0x02;
const AUDIT_RESET = 0x04;

const tpm2b = (b: Uint8Array): Uint8Array => new BeWriter().sized16(b).finish();
const event = (text: string): Uint8Array => tpm2b(Buffer.from(text));
const u16 = (v: number): Uint8Array => new BeWriter().u16(v).finish();
const cap = (capability: number, property: number, count: number): Uint8Array => new BeWriter().u32(capability).u32(property).u32(count).finish();
const pcrSel = (sels: [number, number[]][]): Uint8Array => {
  const w = new BeWriter().u32(sels.length);
  for (const [h, b] of sels) w.u16(h).u8(3).bytes(Uint8Array.from(b));
  return w.finish();
};

interface Mismatch {
  what: string;
  ours: unknown;
  swtpm: unknown;
}

/** Both TPMs behind one interface: every call runs on each and compares the masked outcomes. */
class Both {
  readonly mismatches: Mismatch[] = [];
  compared = 0;
  private constructor(
    readonly engine: Tpm2Engine,
    readonly peer: Swtpm,
    readonly ours: Client,
    readonly theirs: Client,
  ) {}

  static async start(): Promise<Both> {
    const peer = await Swtpm.start({ tpm2: true });
    const engine = createTpm2();
    return new Both(engine, peer, new Client(async (b) => engine.execute(b, 0)), new Client((b) => peer.send(b)));
  }

  private compare(what: string, o: Outcome, t: Outcome): Outcome {
    this.compared++;
    if (o.rc !== t.rc || o.masked !== t.masked || o.params !== t.params) this.mismatches.push({ what, ours: o, swtpm: t });
    if (!o.hmacOk) this.mismatches.push({ what: `${what}: our response HMAC does not verify`, ours: o, swtpm: '' });
    if (!t.hmacOk) this.mismatches.push({ what: `${what}: swtpm's response HMAC does not verify (client bug)`, ours: '', swtpm: t });
    return o;
  }

  async start(name: string, opts: Parameters<Client['start']>[1] = {}): Promise<Outcome> {
    return this.compare(`start ${name} ${JSON.stringify(opts)}`, await this.ours.start(name, opts), await this.theirs.start(name, opts));
  }

  async cmd(spec: CmdSpec): Promise<Outcome> {
    return this.compare(`cmd 0x${spec.cc.toString(16)} ${JSON.stringify(spec.sessions ?? [])}`, await this.ours.command(spec), await this.theirs.command(spec));
  }

  /** A command whose handles name sessions: each side substitutes its own handle for the session name. */
  async cmdWith(spec: CmdSpec & { sessionHandles: string[] }): Promise<Outcome> {
    const o = await this.ours.command({ ...spec, handles: spec.sessionHandles.map((n) => this.ours.handleOf(n)) });
    const t = await this.theirs.command({ ...spec, handles: spec.sessionHandles.map((n) => this.theirs.handleOf(n)) });
    return this.compare(`cmdWith 0x${spec.cc.toString(16)}`, o, t);
  }

  async flush(name: string): Promise<Outcome> {
    const spec = (c: Client): CmdSpec => ({ cc: FLUSH, params: new BeWriter().u32(c.handleOf(name)).finish() });
    const o = await this.ours.command(spec(this.ours));
    const t = await this.theirs.command(spec(this.theirs));
    this.ours.sessions.delete(name);
    this.theirs.sessions.delete(name);
    return this.compare(`flush ${name}`, o, t);
  }

  async init(): Promise<void> {
    this.engine.init();
    await this.peer.init();
    this.ours.sessions.clear();
    this.theirs.sessions.clear();
  }

  report(): string {
    return JSON.stringify(this.mismatches, null, 1).slice(0, 6000);
  }

  async stop(): Promise<void> {
    await this.peer.stop();
  }
}

const hmacUse = (name: string, attrs = CONT, extra: Partial<Extract<Use, { name: string }>> = {}): Use => ({ name, attrs, ...extra });

type Script = (b: Both) => Promise<void>;
const ROWS: [string, Script][] = [
  [
    'tpm2-tools style: unbound unsalted SHA-256 HMAC session on PCR_Event, nonces roll, continueSession clear flushes it',
    async (b) => {
      await b.start('s');
      for (let i = 0; i < 3; i++) expect((await b.cmd({ cc: PCR_EVENT, handles: [16], authHandles: 1, params: event(`e${i}`), sessions: [hmacUse('s')] })).rc).toBe(0);
      const handle = b.ours.handleOf('s');
      expect(handle).toBe(0x02000000);
      expect((await b.cmd({ cc: PCR_EVENT, handles: [16], authHandles: 1, params: event('last'), sessions: [hmacUse('s', 0)] })).rc).toBe(0);
      // the session is gone: REFERENCE_S0
      b.ours.sessions.set('gone', { handle, hash: HASH.sha256, nonceTPM: new Uint8Array(32), key: EMPTY, sym: { alg: 'null' } });
      b.theirs.sessions.set('gone', { handle, hash: HASH.sha256, nonceTPM: new Uint8Array(32), key: EMPTY, sym: { alg: 'null' } });
      expect((await b.cmd({ cc: PCR_EVENT, handles: [16], authHandles: 1, params: event('x'), sessions: [hmacUse('gone')] })).rc).toBe(0x918); // TPM_RC_REFERENCE_S0
      await b.cmd({ cc: 0x17e, params: pcrSel([[HASH.sha256, [0, 0, 1]]]) });
    },
  ],
  [
    'wrong HMAC → BAD_AUTH + S1 (nothing rolls); empty HMAC with an empty key is accepted; PW and HMAC sessions side by side',
    async (b) => {
      await b.start('s');
      expect((await b.cmd({ cc: PCR_EXTEND, handles: [16], authHandles: 1, params: new BeWriter().u32(1).u16(HASH.sha1).bytes(new Uint8Array(20).fill(1)).finish(), sessions: [hmacUse('s', CONT, { hmac: new Uint8Array(32).fill(7) })] })).rc).toBe(0x9a2);
      expect((await b.cmd({ cc: PCR_EVENT, handles: [16], authHandles: 1, params: event('after bad'), sessions: [hmacUse('s')] })).rc).toBe(0);
      // a null HMAC (key and HMAC empty) and a 1-byte HMAC
      expect((await b.cmd({ cc: PCR_EVENT, handles: [16], authHandles: 1, params: event('null'), sessions: [hmacUse('s', CONT, { hmac: EMPTY })] })).rc).toBe(0);
      expect((await b.cmd({ cc: PCR_EVENT, handles: [16], authHandles: 1, params: event('short'), sessions: [hmacUse('s', CONT, { hmac: Uint8Array.of(1) })] })).rc).toBe(0x9a2);
      // EventSequenceComplete: PCR by the HMAC session, the sequence by a password
      await b.cmd({ cc: HASH_SEQ_START, params: new BeWriter().sized16(Buffer.from('pw')).u16(0x0010).finish(), respHandle: true });
      await b.cmd({ cc: EVENT_SEQ_COMPLETE, handles: [16, SEQ], names: [u32(16), EMPTY], authHandles: 2, params: event('tail'), sessions: [hmacUse('s'), { pw: Buffer.from('pw') }] });
      // and the other way round; nonce sizes 16 and 20 for SHA-256
      await b.cmd({ cc: HASH_SEQ_START, params: new BeWriter().sized16(Buffer.from('pw')).u16(0x0010).finish(), respHandle: true });
      await b.cmd({ cc: EVENT_SEQ_COMPLETE, handles: [16, SEQ], names: [u32(16), EMPTY], authHandles: 2, params: event('tail'), sessions: [{ pw: EMPTY }, hmacUse('s', CONT, { auth: Buffer.from('pw'), nonceCaller: new Uint8Array(16).fill(3) })] });
      await b.cmd({ cc: PCR_EVENT, handles: [16], authHandles: 1, params: event('n20'), sessions: [hmacUse('s', CONT, { nonceCaller: new Uint8Array(20).fill(9) })] });
    },
  ],
  [
    'every session hash (SHA-1/256/384/512) and nonce sizes; StartAuthSession nonce size limits → SIZE+P1',
    async (b) => {
      for (const [name, hash] of Object.entries(HASH)) {
        await b.start(name, { hash });
        expect((await b.cmd({ cc: PCR_EVENT, handles: [23], authHandles: 1, params: event(name), sessions: [hmacUse(name, 0)] })).rc).toBe(0);
      }
      expect((await b.start('x', { nonce: new Uint8Array(15) })).rc).toBe(0x1d5);
      expect((await b.start('x', { nonce: new Uint8Array(33) })).rc).toBe(0x1d5);
      expect((await b.start('x', { hash: HASH.sha1, nonce: new Uint8Array(21) })).rc).toBe(0x1d5);
      expect((await b.start('x', { hash: HASH.sha512, nonce: new Uint8Array(16) })).rc).toBe(0);
    },
  ],
  [
    'StartAuthSession errors: handles, salt, type, symmetric, authHash',
    async (b) => {
      await b.cmd({ cc: HASH_SEQ_START, params: new BeWriter().sized16(EMPTY).u16(HASH.sha1).finish(), respHandle: true });
      const tries: Parameters<Client['start']>[1][] = [
        { tpmKey: SEQ }, // a sequence is no asymmetric key → KEY + H1
        { tpmKey: SEQ + 1 }, // not loaded → REFERENCE_H0
        { tpmKey: 0x81000001 }, // persistent, absent → HANDLE + H1
        { tpmKey: 0x40000001 }, // not an object → VALUE + H1
        { bind: SEQ + 2 }, // → REFERENCE_H1
        { bind: 0x01000001 }, // undefined NV index
        { bind: 0x40000010 }, // TPM_RH_AUTH_00
        { bind: 0x40000009 }, // TPM_RS_PW is no entity
        { bind: 24 }, // PCR out of range
        { bind: 0x02000000 }, // a session is no entity
        { salt: Uint8Array.of(1) }, // salt without a key → VALUE + P2
        { salt: new Uint8Array(384) },
        { salt: new Uint8Array(385) }, // larger than TPMU_ENCRYPTED_SECRET → SIZE + P2
        { type: 2 },
        { type: 4 },
        { sym: { alg: 'aes', mode: 0x0044 } }, // ECB: MODE + P4
        { sym: { alg: 'aes', mode: 0x0010 } }, // NULL mode
        { sym: { alg: 'aes', mode: 0x003f } }, // CMAC
        { sym: { alg: 'aes', mode: 0x0045 } }, // not a mode
        { sym: { alg: 'aes', bits: 192 } },
        { sym: { alg: 'aes', bits: 256 } },
        { sym: { alg: 'camellia', bits: 192 } },
        { sym: { alg: 'tdes', bits: 128 } },
        { sym: { alg: 'tdes', bits: 256 } },
        { sym: { alg: 'xor', mode: 0x0010 } }, // XOR with TPM_ALG_NULL hash
        { sym: { alg: 'xor', mode: HASH.sha512 } },
        { hash: 0x0010 },
        { hash: 0x0012 },
      ];
      for (const [i, t] of tries.entries()) {
        const r = await b.start(`t${i}`, t);
        if (r.rc === 0) await b.flush(`t${i}`);
      }
      // symmetric algorithm not built (SM4) and an unknown one
      for (const alg of [0x0013, 0x0099]) {
        const params = new BeWriter().sized16(new Uint8Array(16)).u16(0).u8(0).u16(alg).u16(128).u16(0x43).u16(HASH.sha256).finish();
        await b.cmd({ cc: 0x176, handles: [RH_NULL, RH_NULL], params, respHandle: true });
      }
    },
  ],
  [
    'slots and handles: 3 sessions, the 4th → SESSION_MEMORY; a freed entry is reused; policy handles; GetCapability handles and HR properties',
    async (b) => {
      await b.start('a');
      await b.start('p', { type: 1 });
      await b.start('t', { type: 3, hash: HASH.sha1 });
      expect((await b.start('d')).rc).toBe(0x903);
      expect(b.ours.handleOf('p')).toBe(0x03000001);
      await b.cmd({ cc: GET_CAP, params: cap(1, 0x02000000, 10) });
      await b.cmd({ cc: GET_CAP, params: cap(1, 0x02000002, 10) });
      await b.cmd({ cc: GET_CAP, params: cap(1, 0x03000000, 10) });
      await b.cmd({ cc: GET_CAP, params: cap(1, 0x02000000, 1) });
      await b.cmd({ cc: GET_CAP, params: cap(6, 0x200, 20) });
      await b.flush('p');
      await b.cmd({ cc: GET_CAP, params: cap(6, 0x203, 4) });
      await b.start('h', { hash: HASH.sha384 });
      expect(b.ours.handleOf('h')).toBe(0x02000001);
      await b.cmd({ cc: GET_CAP, params: cap(1, 0x02000000, 10) });
      // FlushContext: unknown session → HANDLE + P1; 0x03000000 reaches the HMAC session of entry 0 (libtpms looks up the index only)
      await b.cmd({ cc: FLUSH, params: new BeWriter().u32(0x02000005).finish() });
      await b.cmd({ cc: FLUSH, params: new BeWriter().u32(0x0200003f).finish() });
      await b.cmd({ cc: FLUSH, params: new BeWriter().u32(0x03000000).finish() });
      await b.cmd({ cc: GET_CAP, params: cap(1, 0x02000000, 10) });
      // sessions end at Startup and at init
      await b.init();
      await b.cmd({ cc: 0x144, params: u16(0) });
      await b.cmd({ cc: GET_CAP, params: cap(1, 0x02000000, 10) });
      await b.cmd({ cc: GET_CAP, params: cap(6, 0x203, 4) });
    },
  ],
  [
    'session area checks: policy/trial sessions, handle type mismatch, duplicates, unassociated sessions, attributes',
    async (b) => {
      await b.start('h');
      await b.start('p', { type: 1 });
      await b.start('t', { type: 3 });
      const ev = (sessions: Use[], pcr = 16): Promise<Outcome> => b.cmd({ cc: PCR_EVENT, handles: [pcr], authHandles: 1, params: event('x'), sessions });
      expect((await ev([hmacUse('p')])).rc).toBe(0x12f); // policy session: no policy for PCR 16 → AUTH_UNAVAILABLE
      expect((await ev([hmacUse('p')], 20)).rc).toBe(0x99d); // PCR 20 has an (empty) policy → POLICY_FAIL + S1
      expect((await ev([hmacUse('t')])).rc).toBe(0x982); // trial session → ATTRIBUTES + S1
      expect((await ev([hmacUse('h'), hmacUse('h')])).rc).toBe(0xa8b); // the same session twice → HANDLE + S2
      expect((await ev([hmacUse('h'), hmacUse('p')])).rc).toBe(0xa82); // no handle to authorize, no audit/enc/dec → ATTRIBUTES + S2
      expect((await ev([hmacUse('h', CONT | DEC)])).rc).toBe(0x996); // decrypt with symmetric NULL → SYMMETRIC + S1
      expect((await b.cmd({ cc: PCR_EXTEND, handles: [16], authHandles: 1, params: new BeWriter().u32(0).finish(), sessions: [hmacUse('h', CONT | DEC)] })).rc).toBe(0x982);
      expect((await ev([hmacUse('h', CONT | ENC)])).rc).toBe(0x982); // PCR_Event's response has no TPM2B first
      expect((await ev([hmacUse('h', CONT | AUDIT), hmacUse('p', CONT | AUDIT)])).rc).toBe(0xa82);
      expect((await ev([{ pw: EMPTY }, hmacUse('p', CONT | AUDIT)])).rc).toBe(0xa82); // a policy session cannot audit
      expect((await ev([hmacUse('h'), { pw: EMPTY }])).rc).toBe(0xa8b); // a password session with no handle → HANDLE + S2
      // a policy session referenced by an HMAC handle (same index) → HANDLE + S1, and the reverse
      for (const [name, other] of [
        ['p', 0x02000001],
        ['h', 0x03000000],
      ] as const) {
        const fake = (c: Client) => c.sessions.set('fake', { ...(c.sessions.get(name) as NonNullable<ReturnType<typeof c.sessions.get>>), handle: other });
        fake(b.ours);
        fake(b.theirs);
        expect((await ev([hmacUse('fake')])).rc).toBe(0x98b);
      }
      // a policy session may carry parameter encryption for a command it does not authorize
      await b.flush('t');
      await b.start('pa', { type: 1, sym: { alg: 'aes' } });
      await b.cmd({ cc: PCR_EVENT, handles: [16], authHandles: 1, params: event('secret'), sessions: [{ pw: EMPTY }, hmacUse('pa', CONT | DEC)] });
      // no sessions at all where one is needed; a session where none is allowed
      await b.cmd({ cc: PCR_EVENT, handles: [16], params: event('x') });
      await b.cmd({ cc: FLUSH, params: new BeWriter().u32(0x02000000).finish(), sessions: [hmacUse('h')] });
    },
  ],
  [
    'bound sessions: bound to the authorized entity (authValue left out) or to another (authValue in); bound to a sequence with an authValue',
    async (b) => {
      await b.start('pcr16', { bind: 16 });
      await b.start('plat', { bind: RH_PLATFORM, hash: HASH.sha1 });
      await b.cmd({ cc: PCR_EVENT, handles: [16], authHandles: 1, params: event('bound'), sessions: [hmacUse('pcr16', CONT, { bound: true })] });
      await b.cmd({ cc: PCR_EVENT, handles: [23], authHandles: 1, params: event('other'), sessions: [hmacUse('pcr16')] });
      await b.cmd({ cc: PCR_ALLOCATE, handles: [RH_PLATFORM], authHandles: 1, params: pcrSel([[HASH.sha256, [0xff, 0xff, 0xff]]]), sessions: [hmacUse('plat', 0, { bound: true })] });
      await b.flush('pcr16');
      // a sequence with a password, and sessions bound to it
      await b.cmd({ cc: HASH_SEQ_START, params: new BeWriter().sized16(Buffer.from('secret\0\0')).u16(HASH.sha256).finish(), respHandle: true });
      const seqAuth = Buffer.from('secret');
      await b.start('seq', { bind: SEQ, bindAuth: seqAuth, hash: HASH.sha384 });
      await b.start('free');
      await b.cmd({ cc: SEQ_UPDATE, handles: [SEQ], names: [EMPTY], authHandles: 1, params: tpm2b(Buffer.from('data1')), sessions: [hmacUse('seq', CONT, { bound: true, auth: seqAuth })] });
      await b.cmd({ cc: SEQ_UPDATE, handles: [SEQ], names: [EMPTY], authHandles: 1, params: tpm2b(Buffer.from('data2')), sessions: [hmacUse('free', CONT, { auth: seqAuth })] });
      // wrong authValue in the key → BAD_AUTH (sequences are DA-exempt)
      await b.cmd({ cc: SEQ_UPDATE, handles: [SEQ], names: [EMPTY], authHandles: 1, params: tpm2b(Buffer.from('x')), sessions: [hmacUse('free', CONT, { auth: Buffer.from('wrong') })] });
      // the bound session on another entity: its authValue joins the key
      await b.cmd({ cc: PCR_EVENT, handles: [16], authHandles: 1, params: event('elsewhere'), sessions: [hmacUse('seq', CONT)] });
      // SequenceComplete flushes the sequence: the response HMAC still uses its authValue
      await b.cmd({ cc: SEQ_COMPLETE, handles: [SEQ], names: [EMPTY], authHandles: 1, params: new BeWriter().sized16(Buffer.from('end')).u32(RH_NULL).finish(), sessions: [hmacUse('free', CONT, { auth: seqAuth })] });
      await b.cmd({ cc: GET_CAP, params: cap(1, 0x02000000, 10) });
    },
  ],
  [
    'parameter encryption: AES-128/256, Camellia, TDES and XOR; decrypt (PCR_Event, SequenceUpdate, Hash), encrypt (GetRandom, Hash); separate decrypt/encrypt sessions',
    async (b) => {
      const syms: Sym[] = [{ alg: 'aes' }, { alg: 'aes', bits: 256 }, { alg: 'camellia' }, { alg: 'camellia', bits: 256 }, { alg: 'tdes' }, { alg: 'tdes', bits: 128 }, { alg: 'xor', mode: HASH.sha1 }];
      for (const [i, sym] of syms.entries()) {
        const n = `e${i}`;
        await b.start(n, { sym, hash: i % 2 ? HASH.sha1 : HASH.sha256, bind: i === 3 ? 16 : RH_NULL });
        await b.cmd({ cc: PCR_EVENT, handles: [16], authHandles: 1, params: event(`encrypted event ${i}`), sessions: [hmacUse(n, CONT | DEC, { bound: i === 3 })] });
        await b.cmd({ cc: HASH_CMD, params: new BeWriter().sized16(Buffer.from(`hash me ${i}`)).u16(HASH.sha256).u32(RH_OWNER).finish(), sessions: [hmacUse(n, CONT | DEC | ENC)], ticket: true });
        await b.cmd({ cc: GET_RANDOM, params: u16(20), sessions: [hmacUse(n, CONT | ENC)], random: true });
        await b.flush(n);
      }
      // session 0 authorizes (HMAC over the other sessions' nonces), session 1 decrypts, session 2 encrypts
      await b.start('auth');
      await b.start('dec', { sym: { alg: 'aes' } });
      await b.start('enc', { sym: { alg: 'xor', mode: HASH.sha256 }, hash: HASH.sha512 });
      await b.cmd({ cc: HASH_SEQ_START, params: new BeWriter().sized16(Buffer.from('k')).u16(HASH.sha1).finish(), respHandle: true });
      await b.cmd({ cc: SEQ_UPDATE, handles: [SEQ], names: [EMPTY], authHandles: 1, params: tpm2b(Buffer.from('hidden')), sessions: [hmacUse('auth', CONT, { auth: Buffer.from('k') }), hmacUse('dec', CONT | DEC)] });
      await b.cmd({
        cc: SEQ_COMPLETE,
        handles: [SEQ],
        names: [EMPTY],
        authHandles: 1,
        params: new BeWriter().sized16(Buffer.from('last')).u32(RH_OWNER).finish(),
        sessions: [hmacUse('auth', CONT, { auth: Buffer.from('k') }), hmacUse('dec', CONT | DEC), hmacUse('enc', CONT | ENC)],
        ticket: true,
      });
      // two decrypt sessions → ATTRIBUTES + S2; a decrypt size beyond the parameters → SIZE + S
      await b.flush('enc');
      await b.start('dec2', { sym: { alg: 'aes' } });
      await b.cmd({ cc: PCR_EVENT, handles: [16], authHandles: 1, params: event('x'), sessions: [hmacUse('dec', CONT | DEC), hmacUse('dec2', CONT | DEC)] });
      await b.cmd({ cc: PCR_EVENT, handles: [16], authHandles: 1, params: Uint8Array.of(0, 9, 1, 2), sessions: [{ pw: EMPTY }, hmacUse('dec', CONT | DEC)] });
    },
  ],
  [
    'audit sessions: first use makes the session exclusive (auditExclusive in the response), another command ends exclusivity, auditExclusive then → TPM_RC_EXCLUSIVE; auditReset',
    async (b) => {
      await b.start('a', { hash: HASH.sha1 });
      await b.start('h');
      await b.cmd({ cc: GET_RANDOM, params: u16(8), sessions: [hmacUse('a', CONT | AUDIT)], random: true });
      await b.cmd({ cc: PCR_EVENT, handles: [16], authHandles: 1, params: event('audited'), sessions: [hmacUse('h'), hmacUse('a', CONT | AUDIT | AUDIT_EXCL)] });
      await b.cmd({ cc: PCR_EVENT, handles: [16], authHandles: 1, params: event('audited+auth'), sessions: [hmacUse('a', CONT | AUDIT)] });
      await b.cmd({ cc: 0x17e, params: pcrSel([[HASH.sha1, [0, 0, 1]]]) }); // not audited: exclusivity ends
      expect((await b.cmd({ cc: GET_RANDOM, params: u16(8), sessions: [hmacUse('a', CONT | AUDIT | AUDIT_EXCL)], random: true })).rc).toBe(0x121);
      await b.cmd({ cc: GET_RANDOM, params: u16(8), sessions: [hmacUse('a', CONT | AUDIT)], random: true });
      await b.cmd({ cc: GET_RANDOM, params: u16(8), sessions: [hmacUse('a', CONT | AUDIT | AUDIT_RESET | AUDIT_EXCL)], random: true });
      await b.cmd({ cc: GET_RANDOM, params: u16(8), sessions: [hmacUse('a', CONT | AUDIT | AUDIT_EXCL)], random: true });
      // an audit session that was bound is no longer bound after its first audit
      await b.start('ab', { bind: 16 });
      await b.cmd({ cc: GET_RANDOM, params: u16(4), sessions: [hmacUse('ab', CONT | AUDIT)], random: true });
      await b.cmd({ cc: PCR_EVENT, handles: [16], authHandles: 1, params: event('was bound'), sessions: [hmacUse('ab', CONT)] });
      await b.flush('a');
      await b.cmd({ cc: GET_RANDOM, params: u16(4), sessions: [hmacUse('ab', CONT | AUDIT | AUDIT_EXCL)], random: true });
    },
  ],
  [
    'a session bound to TPM_RH_LOCKOUT: a wrong HMAC is a DA failure (AUTH_FAIL + S1), then use of the session → TPM_RC_LOCKOUT',
    async (b) => {
      await b.start('l', { bind: RH_LOCKOUT });
      await b.cmd({ cc: PCR_EVENT, handles: [16], authHandles: 1, params: event('ok'), sessions: [hmacUse('l')] });
      expect((await b.cmd({ cc: PCR_EVENT, handles: [16], authHandles: 1, params: event('bad'), sessions: [hmacUse('l', CONT, { hmac: new Uint8Array(32) })] })).rc).toBe(0x98e);
      expect((await b.cmd({ cc: PCR_EVENT, handles: [16], authHandles: 1, params: event('locked'), sessions: [hmacUse('l')] })).rc).toBe(0x921);
      await b.start('l2', { bind: RH_LOCKOUT });
      await b.cmd({ cc: GET_RANDOM, params: u16(4), sessions: [hmacUse('l2', CONT | AUDIT)], random: true });
    },
  ],
  [
    'every command with an HMAC session and an audit session: cpHash over each handle area, rpHash over each response shape (with a response handle too)',
    async (b) => {
      await b.start('h', { hash: HASH.sha512 });
      await b.start('a', { hash: HASH.sha1 });
      const both = (attrs = CONT): Use[] => [hmacUse('h', attrs), hmacUse('a', CONT | AUDIT)];
      const audit: Use[] = [hmacUse('a', CONT | AUDIT)];
      await b.cmd({ cc: 0x17e, params: pcrSel([[HASH.sha256, [1, 0, 0x80]]]), sessions: audit });
      await b.cmd({ cc: PCR_EXTEND, handles: [16], authHandles: 1, params: new BeWriter().u32(1).u16(HASH.sha384).bytes(new Uint8Array(48).fill(4)).finish(), sessions: both() });
      await b.cmd({ cc: 0x13d, handles: [16], authHandles: 1, sessions: both() });
      await b.cmd({ cc: 0x13d, handles: [17], authHandles: 1, sessions: both() }); // LOCALITY: nothing rolls
      await b.cmd({ cc: HASH_SEQ_START, params: new BeWriter().sized16(Buffer.from('q')).u16(HASH.sha512).finish(), respHandle: true, sessions: audit });
      await b.cmd({ cc: SEQ_UPDATE, handles: [SEQ], names: [EMPTY], authHandles: 1, params: tpm2b(new Uint8Array(600).fill(1)), sessions: [hmacUse('h', CONT, { auth: Buffer.from('q') }), hmacUse('a', CONT | AUDIT)] });
      await b.cmd({ cc: SEQ_COMPLETE, handles: [SEQ], names: [EMPTY], authHandles: 1, params: new BeWriter().sized16(EMPTY).u32(RH_NULL).finish(), sessions: [hmacUse('h', CONT, { auth: Buffer.from('q') }), hmacUse('a', CONT | AUDIT)] });
      await b.cmd({ cc: HASH_CMD, params: new BeWriter().sized16(Buffer.from('abc')).u16(HASH.sha1).u32(RH_OWNER).finish(), sessions: audit, ticket: true });
      await b.cmd({ cc: GET_CAP, params: cap(6, 0x100, 3), sessions: audit });
      await b.cmd({ cc: 0x143, params: Uint8Array.of(0), sessions: audit });
      await b.cmd({ cc: 0x17c, sessions: audit });
      await b.cmd({ cc: PCR_ALLOCATE, handles: [RH_PLATFORM], authHandles: 1, params: pcrSel([[HASH.sha1, [0xff, 0xff, 0xff]]]), sessions: both() });
      await b.cmd({ cc: 0x145, params: u16(0), sessions: audit });
      await b.cmd({ cc: 0x145, params: u16(1), sessions: audit }); // refused after PCR_Allocate
    },
  ],
  [
    'StartAuthSession with sessions: an audit session, an encrypt session (nonceTPM encrypted), a password session (no handle) → HANDLE + S1',
    async (b) => {
      await b.start('a');
      await b.start('e', { sym: { alg: 'aes' } });
      await b.start('x1', { sessions: [hmacUse('a', CONT | AUDIT)] });
      await b.start('x2', { sessions: [hmacUse('e', CONT | ENC | DEC)] });
      await b.start('x3', { sessions: [{ pw: EMPTY }] });
    },
  ],
];

const u32 = (v: number): Uint8Array => new BeWriter().u32(v).finish();

let compared = 0;
afterAll(() => console.log(`[tpm2 sessions] ${compared} responses compared with swtpm (nonces, HMACs, random and encrypted bytes masked; every response HMAC verified)`));

describeWithSwtpm('TPM 2.0 authorization sessions vs swtpm', () => {
  for (const [name, script] of ROWS) {
    it(name, async () => {
      const b = await Both.start();
      try {
        try {
          await script(b);
        } catch (e) {
          throw new Error(`${(e as Error).message}\nmismatches so far: ${b.report()}`);
        }
        compared += b.compared;
        expect(b.mismatches, b.report()).toEqual([]);
      } finally {
        await b.stop();
      }
    });
  }
});

/**
 * Random session scripts (mulberry32 seeds): sessions of every type, hash and symmetric, bound or
 * not, used in random combinations (with or without continueSession, decrypt, encrypt, audit,
 * auditExclusive, auditReset, a wrong HMAC now and then) on PCRs, a sequence and commands without
 * handles, flushed, restarted — every response compared with swtpm as above.
 */
const SEEDS = [1, 2, 3, 4, 5, 6, 7, 8];
const STEPS = 80;
const SYMS: Sym[] = [{ alg: 'null' }, { alg: 'null' }, { alg: 'aes' }, { alg: 'xor', mode: HASH.sha1 }, { alg: 'camellia' }, { alg: 'tdes' }, { alg: 'aes', bits: 256 }];
const HASHES = Object.values(HASH);

async function randomScript(b: Both, seed: number): Promise<void> {
  const rnd = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const chance = (p: number): boolean => rnd() < p;
  const bindOf = new Map<string, number>();
  let next = 0;
  let seqLoaded = false;
  const SEQ_AUTH = Buffer.from('sq');
  for (let step = 0; step < STEPS; step++) {
    const live = [...b.ours.sessions.keys()].filter((n) => b.theirs.sessions.has(n));
    const roll = rnd();
    if (live.length === 0 || (roll < 0.22 && (live.length < 3 || chance(0.1)))) {
      const name = `s${next++}`;
      const hash = pick(HASHES);
      const bind = chance(0.4) ? pick([16, 23, RH_PLATFORM, RH_OWNER]) : RH_NULL;
      const size = SIZE[hash] ?? 32;
      const nonce = new Uint8Array(chance(0.1) ? pick([15, size + 1]) : 16 + Math.floor(rnd() * (size - 15))).fill(step);
      const type = pick([0, 0, 0, 0, 0, 1, 1, 3]);
      const r = await b.start(name, { hash, bind, sym: pick(SYMS), type, nonce });
      if (r.rc === 0 && type === 0 && bind !== RH_NULL) bindOf.set(name, bind);
      continue;
    }
    if (roll < 0.3) {
      await b.flush(pick(live));
      continue;
    }
    if (roll < 0.34) {
      if (!seqLoaded) {
        seqLoaded = (await b.cmd({ cc: HASH_SEQ_START, params: new BeWriter().sized16(SEQ_AUTH).u16(pick(HASHES)).finish(), respHandle: true })).rc === 0;
      } else {
        await b.cmd({ cc: FLUSH, params: new BeWriter().u32(SEQ).finish() });
        seqLoaded = false;
      }
      continue;
    }
    if (roll < 0.36) {
      await b.cmd({ cc: GET_CAP, params: cap(1, pick([0x02000000, 0x02000001, 0x03000000]), 8) });
      continue;
    }
    if (roll < 0.37) {
      await b.init();
      await b.cmd({ cc: 0x144, params: u16(0) });
      bindOf.clear();
      seqLoaded = false;
      continue;
    }
    // A command with 1–3 sessions.
    const target = pick(['pcr', 'pcr', 'pcr', 'seq', 'random', 'hash'] as const);
    const pcr = pick([16, 16, 23, 20, 17]);
    const n = 1 + Math.floor(rnd() * 3);
    const uses: Use[] = [];
    // Mostly distinct sessions (a repeated one is TPM_RC_HANDLE + S n).
    const order = [...live].sort(() => rnd() - 0.5);
    for (let i = 0; i < n; i++) {
      const authorizes = i === 0 && (target === 'pcr' || target === 'seq');
      if (chance(authorizes ? 0.15 : 0.02)) {
        uses.push({ pw: target === 'seq' && i === 0 ? SEQ_AUTH : EMPTY });
        continue;
      }
      const name = chance(0.9) && order.length > 0 ? (order.shift() as string) : pick(live);
      let attrs = chance(0.85) ? CONT : 0;
      if (chance(0.2) && target !== 'random') attrs |= DEC;
      if (chance(target === 'random' || target === 'hash' ? 0.3 : 0.05)) attrs |= ENC;
      if (chance(authorizes ? 0.2 : 0.6)) attrs |= AUDIT | (chance(0.3) ? AUDIT_EXCL : 0) | (chance(0.2) ? AUDIT_RESET : 0);
      const entity = target === 'pcr' ? pcr : SEQ;
      uses.push({
        name,
        attrs,
        auth: authorizes && target === 'seq' ? SEQ_AUTH : EMPTY,
        bound: authorizes && bindOf.get(name) === entity,
        ...(chance(0.08) ? { hmac: new Uint8Array(32).fill(1) } : {}),
      });
    }
    let out: Outcome;
    if (target === 'pcr') out = await b.cmd({ cc: PCR_EVENT, handles: [pcr], authHandles: 1, params: event(`step ${step}`), sessions: uses });
    else if (target === 'seq') {
      if (!seqLoaded) continue;
      out = await b.cmd({ cc: SEQ_UPDATE, handles: [SEQ], names: [EMPTY], authHandles: 1, params: tpm2b(Buffer.from(`step ${step}`)), sessions: uses });
    } else if (target === 'random') out = await b.cmd({ cc: GET_RANDOM, params: u16(12), sessions: uses, random: true });
    else out = await b.cmd({ cc: HASH_CMD, params: new BeWriter().sized16(Buffer.from(`h${step}`)).u16(HASH.sha256).u32(RH_NULL).finish(), sessions: uses });
    if (out.rc === 0) for (const u of uses) if (!('pw' in u) && (u.attrs & AUDIT) !== 0) bindOf.delete(u.name);
  }
}

describeWithSwtpm('TPM 2.0 random session scripts vs swtpm', () => {
  let total = 0;
  afterAll(() => console.log(`[tpm2 random sessions] ${SEEDS.length} seeds × ${STEPS} steps: ${total} responses compared with swtpm`));
  for (const seed of SEEDS) {
    it(`seed ${seed}`, async () => {
      const b = await Both.start();
      try {
        await randomScript(b, seed);
        total += b.compared;
        expect(b.mismatches, b.report()).toEqual([]);
      } finally {
        await b.stop();
      }
    });
  }
});
