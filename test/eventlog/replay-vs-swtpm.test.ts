/**
 * Replay against the reference TPM: swtpm + libtpms is fed a log's records as raw extends
 * (TPM2_PCR_Extend / TPM_Extend; PCR 17–22 at locality 2, the rest at locality 0), then all 24 PCRs
 * of every bank are read back and handed to verify as the expected set — the way a full quote
 * would be. Every real vector must be all-match: PCR 17–22 all ones (no dynamic launch), untouched
 * PCRs at their reset value, StartupLocality 3 logs with PCR 0 = 00..03 (swtpm started at
 * locality 3). DRTM logs: swtpm runs the dynamic launch on its control channel (HASH_START/DATA/
 * END at locality 4) and the log carries the launch as a TXT EVTYPE_HASH_START record on PCR 17.
 */
import { createHash } from 'node:crypto';
import { afterEach, expect, it } from 'vitest';
import { algById, HASH_ALGS, type BankName } from '../../src/hash/index.js';
import { EV, SLAUNCH_EVTYPE, TXT_EVTYPE } from '../../src/eventlog/constants.js';
import type { ParsedLog } from '../../src/eventlog/model.js';
import { parseEventLog } from '../../src/eventlog/parse.js';
import { Tcg2Log } from '../../src/eventlog/tcg2.js';
import { TxtContainerLog } from '../../src/eventlog/txt-container.js';
import { verifyEventLog, type ExpectedPcrs } from '../../src/eventlog/verify.js';
import { Swtpm, describeWithSwtpm } from '../support/swtpm.js';
import * as t2 from '../tpm2/support/cmd.js';
import * as t12 from '../tpm12/support/commands.js';
import { loadVectors } from './vectors.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const rc = (rsp: Uint8Array): number => Buffer.from(rsp).readUInt32BE(6);
const ALL = [...Array(24).keys()];
const extendLocality = (pcr: number): number => (pcr >= 17 && pcr <= 22 ? 2 : 0);

const running: Swtpm[] = [];
afterEach(async () => {
  for (const t of running.splice(0)) await t.stop();
});

class Tpm2Peer {
  private loc = 0;
  private constructor(
    readonly tpm: Swtpm,
    readonly banks: BankName[],
  ) {}

  /**
   * A fresh swtpm --tpm2 with exactly `banks` allocated (PCR_Allocate, Shutdown, TPM_Init), then
   * TPM2_Startup(CLEAR) sent from `startupLocality` (PCR 0 then starts at 00..0L).
   */
  static async start(banks: BankName[], startupLocality = 0): Promise<Tpm2Peer> {
    const tpm = await Swtpm.start({ tpm2: true });
    running.push(tpm);
    const want = new Set(banks);
    const sels = HASH_ALGS.filter((a) => a.name !== 'sm3_256').map((a) => ({ hash: a.algId, bits: want.has(a.name) ? Uint8Array.of(0xff, 0xff, 0xff) : new Uint8Array(3) }));
    expect(rc(await tpm.send(t2.pcrAllocate(sels)))).toBe(0);
    expect(rc(await tpm.send(t2.shutdown(0)))).toBe(0);
    expect(await tpm.init()).toBe(0);
    expect(await tpm.setLocality(startupLocality)).toBe(0);
    expect(rc(await tpm.send(t2.startup(0)))).toBe(0);
    const p = new Tpm2Peer(tpm, banks);
    p.loc = startupLocality;
    return p;
  }

  async at(locality: number): Promise<void> {
    if (locality === this.loc) return;
    expect(await this.tpm.setLocality(locality)).toBe(0);
    this.loc = locality;
  }

  /** TPM2_PCR_Extend of every digest the record carries for an allocated bank. */
  async extend(pcr: number, digests: { alg: number; digest: Uint8Array }[]): Promise<void> {
    const ds = digests.filter((d) => this.banks.some((b) => algById(d.alg)?.name === b));
    if (ds.length === 0) return;
    await this.at(extendLocality(pcr));
    const r = await this.tpm.send(t2.pcrExtend(pcr, ds));
    expect(rc(r), `PCR_Extend ${pcr}`).toBe(0);
  }

  /** All 24 PCRs of every allocated bank (PCR_Read answers at most 8 digests, so 3 reads per bank). */
  async readAll(): Promise<ExpectedPcrs> {
    const out: ExpectedPcrs = {};
    for (const bank of this.banks) {
      const alg = algById(HASH_ALGS.find((a) => a.name === bank)?.algId ?? 0);
      if (!alg) throw new Error(`no alg ${bank}`);
      const m: Record<string, string> = {};
      for (let k = 0; k < 3; k++) {
        const bits = new Uint8Array(3);
        bits[k] = 0xff;
        const r = Buffer.from(await this.tpm.send(t2.pcrRead([{ hash: alg.algId, bits }])));
        expect(rc(r)).toBe(0);
        // header(10) updateCounter(4) TPML_PCR_SELECTION{count(4) hash(2) sizeofSelect(1) select(3)} TPML_DIGEST{count(4) {size(2) bytes}}
        let at = 10 + 4 + 4 + 2 + 1 + 3;
        const n = r.readUInt32BE(at);
        at += 4;
        expect(n).toBe(8);
        for (let i = 0; i < n; i++) {
          const size = r.readUInt16BE(at);
          m[String(k * 8 + i)] = r.subarray(at + 2, at + 2 + size).toString('hex');
          at += 2 + size;
        }
      }
      out[bank] = m;
    }
    return out;
  }
}

class Tpm12Peer {
  private loc = 0;
  private constructor(readonly tpm: Swtpm) {}
  static async start(): Promise<Tpm12Peer> {
    const tpm = await Swtpm.start();
    running.push(tpm);
    return new Tpm12Peer(tpm);
  }
  async extend(pcr: number, digest: Uint8Array): Promise<void> {
    const l = extendLocality(pcr);
    if (l !== this.loc) {
      expect(await this.tpm.setLocality(l)).toBe(0);
      this.loc = l;
    }
    expect(rc(await this.tpm.send(t12.extend(pcr, digest))), `TPM_Extend ${pcr}`).toBe(0);
  }
  async readAll(): Promise<ExpectedPcrs> {
    const m: Record<string, string> = {};
    for (const i of ALL) {
      const r = await this.tpm.send(t12.pcrRead(i));
      expect(rc(r)).toBe(0);
      m[String(i)] = hex(r.subarray(10, 30));
    }
    return { sha1: m };
  }
}

/** Feed every record that replay extends (not EV_NO_ACTION, PCR < 24) to the peer as raw extends. */
async function feed(log: ParsedLog, extend: (pcr: number, digests: { alg: number; digest: Uint8Array }[]) => Promise<void>, from = 0, to = log.events.length): Promise<number> {
  let n = 0;
  for (const e of log.events.slice(from, to)) {
    if (e.type === EV.NO_ACTION || e.pcr >= 24) continue;
    await extend(e.pcr, e.digests.map((d) => ({ alg: d.algorithmId, digest: d.digest })));
    n++;
  }
  return n;
}

function expectAllMatch(log: ParsedLog, expected: ExpectedPcrs, label: string): ReturnType<typeof verifyEventLog> {
  const v = verifyEventLog(log, expected);
  expect(v.mismatches.map((m) => `${m.bank}:${m.pcr} expected ${m.expected} got ${m.actual}`), label).toEqual([]);
  expect(v.checks.length, label).toBe(24 * Object.keys(expected).length);
  return v;
}

const vectors = loadVectors();

describeWithSwtpm('replay vs swtpm: real firmware logs extended into a fresh TPM (no dynamic launch)', () => {
  const tpm2Vectors = vectors.filter((v) => v.expected.format === 'tcg2-agile');
  const tpm12Vectors = vectors.filter((v) => v.expected.format === 'tpm12-sha1');

  it('covers every vector: TPM 2.0 for the crypto-agile logs, TPM 1.2 for the SHA-1 ones', () => {
    expect(tpm2Vectors.length + tpm12Vectors.length).toBe(vectors.length);
    expect(tpm12Vectors.length).toBeGreaterThanOrEqual(2);
  });

  it.each(tpm2Vectors.map((v) => [v.name, v] as const))('%s: all 24 PCRs of every log bank read from swtpm --tpm2 verify as all-match', async (name, v) => {
    const log = parseEventLog(v.bytes);
    const banks = log.algorithms.map((a) => algById(a.algorithmId)?.name).filter((b): b is BankName => b !== undefined && b !== 'sm3_256');
    expect(banks.length, name).toBe(log.algorithms.length);
    const locality = v.expected.startupLocality ?? 0;
    // swtpm's control channel sets the locality TPM2_Startup comes from: 0 or 3 (the PC Client
    // startup localities). An H-CRTM log (StartupLocality 4) would need a pre-Startup
    // _TPM_Hash_Start; no vector has one.
    expect([0, 3], name).toContain(locality);
    const peer = await Tpm2Peer.start(banks, locality);
    const extended = await feed(log, (pcr, ds) => peer.extend(pcr, ds));
    expect(extended, name).toBeGreaterThanOrEqual(name === 'tpm2tools-specid-vendordata' ? 0 : 1);
    const quote = await peer.readAll();
    for (const b of banks) for (let i = 17; i <= 22; i++) expect(quote[b]?.[String(i)], `${name} ${b}:${i}`).toMatch(/^(ff)+$/);
    if (locality === 3) expect(quote[banks[0] as BankName]?.['0']).not.toMatch(/^0+$/);
    const v2 = expectAllMatch(log, quote, name);
    const untouched17 = v2.checks.filter((c) => c.pcr === 17);
    for (const c of untouched17) expect(c.untouched && /all ones/.test(c.note ?? ''), `${name} ${c.bank}:17`).toBe(true);
    // The upstream values agree with swtpm where upstream lists them.
    for (const [bank, m] of Object.entries(v.expected.pcrs ?? {})) for (const [i, h] of Object.entries(m)) expect(quote[bank]?.[i], `${name} upstream ${bank}:${i}`).toBe(h);
  });

  it.each(tpm12Vectors.map((v) => [v.name, v] as const))('%s: all 24 PCRs read from a TPM 1.2 swtpm verify as all-match', async (name, v) => {
    const log = parseEventLog(v.bytes);
    expect(v.expected.startupLocality, name).toBeUndefined();
    const peer = await Tpm12Peer.start();
    await feed(log, async (pcr, ds) => {
      for (const d of ds) await peer.extend(pcr, d.digest);
    });
    const quote = await peer.readAll();
    for (let i = 17; i <= 22; i++) expect(quote.sha1?.[String(i)]).toBe('ff'.repeat(20));
    expectAllMatch(log, quote, name);
    for (const [i, h] of Object.entries(v.expected.pcrs?.sha1 ?? {})) expect(quote.sha1?.[i], `${name} upstream sha1:${i}`).toBe(h);
  });
});

describeWithSwtpm('replay vs swtpm: DRTM logs after a real dynamic launch (HASH_START/DATA/END)', () => {
  const enc = new TextEncoder();
  const sinit = enc.encode('SINIT ACM stand-in '.repeat(300));
  const blobs = { firmware: enc.encode('firmware'), before: enc.encode('extended before the launch'), mbi: enc.encode('mbi'), slrt: enc.encode('slrt'), kernel: enc.encode('kernel') };
  const H = (alg: 'sha1' | 'sha256', b: Uint8Array): Uint8Array => new Uint8Array(createHash(alg).update(b).digest());

  // Log order = TPM order. The launch record is SINIT's EVTYPE_HASH_START on PCR 17 with the
  // hash of the launch data; the record before it extends PCR 20, which the launch wipes.
  const plan: { pcr: number; type: number; blob: keyof typeof blobs | 'sinit' }[] = [
    { pcr: 0, type: EV.POST_CODE, blob: 'firmware' },
    { pcr: 20, type: EV.ACTION, blob: 'before' },
    { pcr: 17, type: TXT_EVTYPE.HASH_START, blob: 'sinit' },
    { pcr: 18, type: SLAUNCH_EVTYPE.SLAUNCH, blob: 'mbi' },
    { pcr: 18, type: SLAUNCH_EVTYPE.SLAUNCH, blob: 'slrt' },
    { pcr: 17, type: SLAUNCH_EVTYPE.SLAUNCH, blob: 'kernel' },
    { pcr: 23, type: EV.ACTION, blob: 'firmware' },
  ];
  const launchAt = plan.findIndex((p) => p.type === TXT_EVTYPE.HASH_START);
  const data = (k: keyof typeof blobs | 'sinit'): Uint8Array => (k === 'sinit' ? sinit : blobs[k]);

  it('TPM 2.0 (SHA-1 + SHA-256) and a TCG2 log: all 24 PCRs of both banks match; 19, 21, 22 zero; 20 wiped by the launch', async () => {
    const log = new Tcg2Log({ banks: ['sha1', 'sha256'] });
    for (const p of plan) log.append({ pcr: p.pcr, type: p.type, digests: { sha1: H('sha1', data(p.blob)), sha256: H('sha256', data(p.blob)) }, data: new Uint8Array(0) });
    const parsed = parseEventLog(log.bytes());
    const peer = await Tpm2Peer.start(['sha1', 'sha256']);
    // Records before the launch record, then the launch itself on swtpm, then the rest.
    await feed(parsed, (pcr, ds) => peer.extend(pcr, ds), 0, launchAt + 1);
    expect(await peer.tpm.drtm(sinit)).toBe(0);
    await feed(parsed, (pcr, ds) => peer.extend(pcr, ds), launchAt + 2);
    const quote = await peer.readAll();
    for (const b of ['sha1', 'sha256'] as const) for (const i of [19, 20, 21, 22]) expect(quote[b]?.[String(i)]).toMatch(/^(00)+$/);
    const v = expectAllMatch(parsed, quote, 'tcg2 drtm');
    expect(v.replay.launchRecord).toBe(launchAt + 1);
    expect(v.replay.warnings.join()).toMatch(/do not count/);
  });

  it('TPM 1.2 and a TXT event container: all 24 PCRs match', async () => {
    const c = new TxtContainerLog({ size: 4096 });
    for (const p of plan) expect(c.append({ pcr: p.pcr, type: p.type, digest: H('sha1', data(p.blob)), data: new Uint8Array(0) })).not.toBeNull();
    const parsed = parseEventLog(c.bytes());
    const peer = await Tpm12Peer.start();
    const ext = async (pcr: number, ds: { digest: Uint8Array }[]): Promise<void> => {
      for (const d of ds) await peer.extend(pcr, d.digest);
    };
    await feed(parsed, ext, 0, launchAt);
    expect(await peer.tpm.drtm(sinit)).toBe(0);
    await feed(parsed, ext, launchAt + 1);
    const quote = await peer.readAll();
    expect(quote.sha1?.['19']).toBe('00'.repeat(20));
    const v = expectAllMatch(parsed, quote, 'txt drtm');
    expect(v.replay.launchRecord).toBe(launchAt);
  });

  it('the same TCG2 log against a TPM that never launched (all records extended raw) is a mismatch on PCR 17–22 only', async () => {
    const log = new Tcg2Log({ banks: ['sha256'] });
    for (const p of plan) log.append({ pcr: p.pcr, type: p.type, digests: { sha256: H('sha256', data(p.blob)) }, data: new Uint8Array(0) });
    const parsed = parseEventLog(log.bytes());
    const peer = await Tpm2Peer.start(['sha256']);
    await feed(parsed, (pcr, ds) => peer.extend(pcr, ds));
    const v = verifyEventLog(parsed, await peer.readAll());
    expect([...new Set(v.mismatches.map((m) => m.pcr))].sort((a, b) => a - b)).toEqual([17, 18, 19, 20, 21, 22]);
    // The reset values: 19, 21, 22 hold all ones on the TPM and zero in the replay, and the note says why.
    expect(v.checks.find((c) => c.pcr === 19)).toMatchObject({ untouched: true, actual: '00'.repeat(32), expected: 'ff'.repeat(32) });
  });
});
