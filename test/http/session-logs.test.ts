/**
 * The logs a session writes explain its PCRs: replaying them (our replay endpoint, and tpm2_eventlog
 * for TCG2 logs) gives exactly the PCR values the session reports (TXT event container; TCG PC Client
 * crypto-agile log).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../support/server.js';
import { blob } from '../support/data.js';
import { requireTool } from '../support/tools.js';

let srv: TestServer;
beforeAll(async () => {
  srv = await startServer();
});
afterAll(async () => srv.close());
afterEach(() => expect(srv.violations.splice(0)).toEqual([]));

type Bank = 'sha1' | 'sha256' | 'sha384' | 'sha512' | 'sm3_256';


async function launch(body: { family: '1.2' | '2.0'; banks?: Bank[]; compat?: 'xen' | 'strict' }): Promise<{ id: string; pcrs: Record<string, string[]>; log: Buffer }> {
  const { data } = await srv.client.POST('/v1/sessions', { body });
  const id = data!.id;
  const post = (path: string, b: Buffer) => srv.fetch(path, { method: 'POST', body: b, headers: { 'content-type': 'application/octet-stream' } });
  expect((await post(`/v1/sessions/${id}/drtm`, blob(5000, 9))).status).toBe(200);
  expect((await post(`/v1/sessions/${id}/measurements?pcr=18&hashing=tpm`, blob(777, 1))).status).toBe(201);
  expect((await post(`/v1/sessions/${id}/measurements?pcr=18&eventData=Measured%20SLR%20Table`, blob(560, 2))).status).toBe(201);
  expect((await post(`/v1/sessions/${id}/measurements?pcr=17&eventData=Measured%20MB2%20module`, blob(100_000, 3))).status).toBe(201);
  expect((await post(`/v1/sessions/${id}/measurements?pcr=17&hashing=tpm`, blob(3333, 4))).status).toBe(201);
  const { data: p } = await srv.client.GET('/v1/sessions/{id}/pcrs', { params: { path: { id } } });
  const res = await srv.fetch(`/v1/sessions/${id}/event-log`, { headers: { accept: 'application/octet-stream' } });
  return { id, pcrs: p!.banks as Record<string, string[]>, log: Buffer.from(await res.arrayBuffer()) };
}

async function replay(log: Buffer): Promise<{ format: string; banks: Record<string, string[]>; untouched: Record<string, number[]>; dynamicLaunch: boolean; dynamicLaunchRecord?: number }> {
  const res = await srv.fetch('/v1/event-logs/replay', { method: 'POST', body: log, headers: { 'content-type': 'application/octet-stream' } });
  expect(res.status).toBe(200);
  return (await res.json()) as { format: string; banks: Record<string, string[]>; untouched: Record<string, number[]>; dynamicLaunch: boolean; dynamicLaunchRecord?: number };
}

/** The session's PCRs of `banks` as a full 24-PCR expected set, as a quote would give them. */
const quoteOf = (pcrs: Record<string, string[]>, banks: string[]): Record<string, Record<string, string>> =>
  Object.fromEntries(banks.map((b) => [b, Object.fromEntries((pcrs[b] ?? []).map((v, i) => [String(i), v]))]));

async function verifyAll(log: Buffer, pcrs: Record<string, Record<string, string>>): Promise<{ ok: boolean; results: { bank: string; pcr: number; match: boolean; untouched: boolean; note?: string }[] }> {
  const { data, response } = await srv.client.POST('/v1/event-logs/verify', { body: { log: log.toString('base64'), pcrs } });
  expect(response.status).toBe(200);
  return data as unknown as { ok: boolean; results: { bank: string; pcr: number; match: boolean; untouched: boolean; note?: string }[] };
}

/** A session that never launches: measurements on PCR 23 (locality 0) and 20 (locality 2) with EV_ACTION records. */
async function noLaunch(body: { family: '1.2' | '2.0'; banks?: Bank[] }): Promise<{ pcrs: Record<string, string[]>; log: Buffer }> {
  const { data } = await srv.client.POST('/v1/sessions', { body });
  const id = data!.id;
  const post = (path: string, b: Buffer) => srv.fetch(path, { method: 'POST', body: b, headers: { 'content-type': 'application/octet-stream' } });
  expect((await post(`/v1/sessions/${id}/measurements?pcr=23&eventType=5&eventData=app`, blob(999, 5))).status).toBe(201);
  expect((await post(`/v1/sessions/${id}/measurements?pcr=20&locality=2&eventType=5&eventData=os`, blob(4321, 6))).status).toBe(201);
  const { data: p } = await srv.client.GET('/v1/sessions/{id}/pcrs', { params: { path: { id } } });
  const res = await srv.fetch(`/v1/sessions/${id}/event-log`, { headers: { accept: 'application/octet-stream' } });
  return { pcrs: p!.banks as Record<string, string[]>, log: Buffer.from(await res.arrayBuffer()) };
}

describe('session logs replay to the session PCRs', () => {
  it('TPM 1.2: the TXT container (with the synthetic SINIT event) replays to all 24 PCRs', async () => {
    const s = await launch({ family: '1.2' });
    const r = await replay(s.log);
    expect(r.format).toBe('txt-container');
    expect(r.banks.sha1).toEqual(s.pcrs.sha1);
    // The synthetic EVTYPE_HASH_START record is the launch: 17–22 from zero; 19–22 never extended.
    expect([r.dynamicLaunch, r.dynamicLaunchRecord]).toEqual([true, 0]);
    expect(r.untouched.sha1).toEqual([...Array(24).keys()].filter((i) => i !== 17 && i !== 18));
    const v = await verifyAll(s.log, quoteOf(s.pcrs, ['sha1']));
    expect(v.ok).toBe(true);
    expect(v.results.find((x) => x.pcr === 19)?.note).toMatch(/zero \(the dynamic launch at record 0 resets PCR 17–22\)/);
  });

  for (const family of ['1.2', '2.0'] as const) {
    it(`TPM ${family} without a dynamic launch: the log replays to all 24 session PCRs, 17–22 from all ones`, async () => {
      const banks: Bank[] = family === '1.2' ? ['sha1'] : ['sha1', 'sha256'];
      const s = await noLaunch(family === '1.2' ? { family } : { family, banks });
      const r = await replay(s.log);
      expect(r.dynamicLaunch).toBe(false);
      for (const b of banks) {
        expect(r.banks[b], b).toEqual(s.pcrs[b]);
        for (const i of [17, 18, 19, 21, 22]) expect(r.banks[b]?.[i]).toMatch(/^(ff)+$/);
        expect(r.untouched[b]).toEqual([...Array(24).keys()].filter((i) => i !== 20 && i !== 23));
      }
      const v = await verifyAll(s.log, quoteOf(s.pcrs, banks));
      expect(v.ok).toBe(true);
      expect(v.results.filter((x) => x.untouched)).toHaveLength(22 * banks.length);
    });
  }

  const allocations: Bank[][] = [['sha256'], ['sha1', 'sha256'], ['sha1', 'sha256', 'sha384', 'sha512']];
  for (const banks of allocations) {
    for (const compat of ['strict', 'xen'] as const) {
      it(`TPM 2.0 ${banks.join('+')} (${compat}): the TCG2 log replays to every allocated bank`, async () => {
        const s = await launch({ family: '2.0', banks, compat });
        const r = await replay(s.log);
        expect(r.format).toBe('tcg2-agile');
        if (compat === 'xen' && banks[0] !== 'sha1') {
          // docs/tpm-quirks.md#event-sequence-digests: EventSequenceComplete returns SHA-1 first; Xen stops copying digests at
          // the first algorithm its log header does not list, so with a SHA-256-only header the
          // TPM-hashed entries keep the OneDigest placeholder while the TPM extended the real digest.
          expect(r.banks.sha256![18]).not.toBe(s.pcrs.sha256![18]);
          expect(r.banks.sha256![0]).toBe(s.pcrs.sha256![0]);
        } else {
          for (const b of banks) expect(r.banks[b], b).toEqual(s.pcrs[b]);
          // The session's full PCR set, as a quote would give it, verifies: 19–22 zero after the launch.
          expect((await verifyAll(s.log, quoteOf(s.pcrs, banks))).ok).toBe(true);
          expect(r.untouched[banks[0]!]).toEqual([...Array(24).keys()].filter((i) => i !== 17 && i !== 18));
        }
      });
    }
  }
});

/** Parse the trailing `pcrs:` block of tpm2_eventlog's YAML: {bank: {index: hex}}. */
function parseTpm2EventlogPcrs(yaml: string): Record<string, Record<number, string>> {
  const out: Record<string, Record<number, string>> = {};
  const at = yaml.lastIndexOf('\npcrs:');
  if (at < 0) return out;
  let bank = '';
  for (const line of yaml.slice(at + 6).split('\n')) {
    const b = /^\s{2}(\w+):\s*$/.exec(line);
    if (b) {
      bank = b[1]!;
      out[bank] = {};
      continue;
    }
    const v = /^\s{4}(\d+)\s*:\s*0x([0-9A-Fa-f]+)/.exec(line);
    if (v && bank) out[bank]![Number(v[1])] = v[2]!.toLowerCase();
  }
  return out;
}

const describeTools = requireTool('tpm2_eventlog', 'tpm2_eventlog checks of the session TCG2 log', 'tpm2-tools') ? describe : describe.skip;

describeTools('tpm2_eventlog (tpm2-tools) reads the session TCG2 log', () => {
  const allocations: Bank[][] = [['sha256'], ['sha1', 'sha256'], ['sha1', 'sha256', 'sha384', 'sha512']];
  for (const banks of allocations) {
    it(`${banks.length} bank(s): ${banks.join('+')} — printed PCRs equal the session's`, async () => {
      const s = await launch({ family: '2.0', banks, compat: 'strict' });
      const dir = mkdtempSync(join(tmpdir(), 'tpm2ev-'));
      try {
        const f = join(dir, 'log.bin');
        writeFileSync(f, s.log);
        const r = spawnSync('tpm2_eventlog', [f], { encoding: 'utf8' });
        expect(r.status, r.stderr).toBe(0);
        const printed = parseTpm2EventlogPcrs(r.stdout);
        let compared = 0;
        for (const b of banks) {
          for (const [i, v] of Object.entries(printed[b] ?? {})) {
            expect(v, `${b}[${i}]`).toBe(s.pcrs[b]![Number(i)]);
            compared++;
          }
          // tpm2_eventlog replays from zero and prints the PCRs the log touches: 17 and 18 here.
          expect(printed[b]?.[17]).toBe(s.pcrs[b]![17]);
          expect(printed[b]?.[18]).toBe(s.pcrs[b]![18]);
        }
        expect(compared).toBeGreaterThanOrEqual(2 * banks.length);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
