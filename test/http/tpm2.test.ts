/**
 * TPM 2.0 sessions over HTTP (Xen slaunch patches 12/21, v3 11/22 and 13/22; docs/tpm-quirks.md):
 * both hashing paths, the xen rules
 * (OneDigest placeholder, no extend when the log is full, digest copy stopping at the first
 * algorithm the log header does not list) and strict mode, the TCG2 log and the POINTER2_1 element.
 */
import { createHash } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../support/server.js';
import { blob } from '../support/data.js';

let srv: TestServer;
beforeAll(async () => {
  srv = await startServer();
});
afterAll(async () => srv.close());
afterEach(() => expect(srv.violations.splice(0)).toEqual([]));

type Bank = 'sha1' | 'sha256' | 'sha384' | 'sha512';
const H = (alg: string, ...parts: Uint8Array[]) => {
  const h = createHash(alg);
  for (const p of parts) h.update(p);
  return h.digest();
};
const SIZE: Record<Bank, number> = { sha1: 20, sha256: 32, sha384: 48, sha512: 64 };
const oneDigest = (b: Bank) => {
  const d = Buffer.alloc(SIZE[b]);
  d[0] = 1;
  return d;
};


async function session(banks: Bank[], compat: 'xen' | 'strict' = 'xen', logSize?: number): Promise<string> {
  const { data, response } = await srv.client.POST('/v1/sessions', { body: { family: '2.0', banks, compat, ...(logSize ? { logSize } : {}) } });
  expect(response.status).toBe(201);
  expect(data?.banks).toEqual(banks);
  expect(data?.tisProfile).toBe('ptp-fifo');
  return data!.id;
}
const post = (path: string, b: Buffer) => srv.fetch(path, { method: 'POST', body: b, headers: { 'content-type': 'application/octet-stream' } });
async function measure(id: string, data: Buffer, q: string): Promise<Record<string, unknown>> {
  const r = await post(`/v1/sessions/${id}/measurements?${q}`, data);
  expect(r.status).toBe(201);
  return (await r.json()) as Record<string, unknown>;
}
async function pcrs(id: string): Promise<Record<string, string[]>> {
  const { data } = await srv.client.GET('/v1/sessions/{id}/pcrs', { params: { path: { id } } });
  return data!.banks as Record<string, string[]>;
}

describe('dynamic launch on TPM 2.0 (ms-tpm-20-ref _TPM_Hash_End, PC Client PCR 17–22)', () => {
  it('PCR 17 = H(0 ‖ H(data)) in every allocated bank, 18–22 zero, 0–16 and 23 untouched', async () => {
    const id = await session(['sha1', 'sha256', 'sha384']);
    const before = await pcrs(id);
    expect(before.sha256![17]).toBe('ff'.repeat(32));
    const r = await post(`/v1/sessions/${id}/drtm`, blob(1000, 5));
    expect(r.status).toBe(200);
    const after = await pcrs(id);
    for (const b of ['sha1', 'sha256', 'sha384'] as Bank[]) {
      expect(after[b]![17]).toBe(H(b, Buffer.alloc(SIZE[b]), H(b, blob(1000, 5))).toString('hex'));
      for (const i of [18, 19, 20, 21, 22]) expect(after[b]![i]).toBe('00'.repeat(SIZE[b]));
      expect(after[b]![0]).toBe(before[b]![0]);
    }
  });
});

describe('host and tpm hashing agree (strict: real digests everywhere)', () => {
  for (const banks of [['sha256'], ['sha1', 'sha256'], ['sha1', 'sha256', 'sha384', 'sha512']] as Bank[][]) {
    it(banks.join('+'), async () => {
      const data = blob(5000, 11);
      const a = await session(banks, 'strict');
      const b = await session(banks, 'strict');
      await post(`/v1/sessions/${a}/drtm?logEvent=false`, Buffer.alloc(0));
      await post(`/v1/sessions/${b}/drtm?logEvent=false`, Buffer.alloc(0));
      const host = await measure(a, data, 'hashing=host');
      const tpm = await measure(b, data, 'hashing=tpm');
      expect(host.pcrValue).toEqual(tpm.pcrValue);
      expect(host.digests).toEqual(tpm.digests);
      for (const bank of banks) {
        expect((host.digests as Record<string, string>)[bank]).toBe(H(bank, data).toString('hex'));
        expect((await pcrs(a))[bank]![18]).toBe(H(bank, Buffer.alloc(SIZE[bank]), H(bank, data)).toString('hex'));
      }
    });
  }
});

describe('xen rules (OneDigest placeholder, TPM2 log full, event-sequence digests)', () => {
  it('host path: SHA-384/512 banks get the OneDigest placeholder, in the log and in the TPM', async () => {
    const id = await session(['sha1', 'sha256', 'sha384', 'sha512']);
    await post(`/v1/sessions/${id}/drtm?logEvent=false`, Buffer.alloc(0));
    const data = blob(3000, 3);
    const r = await measure(id, data, 'hashing=host&pcr=17');
    const digests = r.digests as Record<string, string>;
    expect(digests.sha1).toBe(H('sha1', data).toString('hex'));
    expect(digests.sha256).toBe(H('sha256', data).toString('hex'));
    expect(digests.sha384).toBe(oneDigest('sha384').toString('hex'));
    expect(digests.sha512).toBe(oneDigest('sha512').toString('hex'));
    expect((r.dataDigests as Record<string, string>).sha384).toBe(H('sha384', data).toString('hex'));
    const p = await pcrs(id);
    const launch17 = (b: Bank) => H(b, Buffer.alloc(SIZE[b]), H(b, new Uint8Array(0)));
    expect(p.sha384![17]).toBe(H('sha384', launch17('sha384'), oneDigest('sha384')).toString('hex'));
    expect(p.sha256![17]).toBe(H('sha256', launch17('sha256'), H('sha256', data)).toString('hex'));
  });

  it('tpm path: the TPM extends real digests; the entry copies them up to the first unlisted algorithm', async () => {
    // Header {sha256}: EventSequenceComplete returns SHA-1 first, which the header does not list,
    // so Xen copies nothing and the entry keeps the placeholder (docs/tpm-quirks.md#event-sequence-digests).
    const id = await session(['sha256']);
    await post(`/v1/sessions/${id}/drtm?logEvent=false`, Buffer.alloc(0));
    const data = blob(700, 8);
    const r = await measure(id, data, 'hashing=tpm');
    expect((r.digests as Record<string, string>).sha256).toBe(oneDigest('sha256' as Bank).toString('hex'));
    expect((await pcrs(id)).sha256![18]).toBe(H('sha256', Buffer.alloc(32), H('sha256', data)).toString('hex'));
    // Header {sha1, sha256}: both copied.
    const id2 = await session(['sha1', 'sha256']);
    const r2 = await measure(id2, data, 'hashing=tpm');
    expect(r2.digests).toEqual({ sha1: H('sha1', data).toString('hex'), sha256: H('sha256', data).toString('hex') });
  });

  it('an event that does not fit: xen sends PCR_Extend with zero digests (nothing extended); strict extends', async () => {
    // Spec ID header for sha1+sha256 is 32 + 33 + 8 = 73 bytes; an entry is 16 + 22 + 34 + data.
    const logSize = 73 + 72 + 10;
    for (const compat of ['xen', 'strict'] as const) {
      const id = await session(['sha1', 'sha256'], compat, logSize);
      await post(`/v1/sessions/${id}/drtm?logEvent=false`, Buffer.alloc(0));
      const first = await measure(id, blob(10, 1), 'hashing=host');
      expect(first).toMatchObject({ logged: true, extended: true });
      const before = await pcrs(id);
      const second = await measure(id, blob(10, 2), 'hashing=host&eventData=too-long-for-the-log');
      expect(second.logged).toBe(false);
      const after = await pcrs(id);
      if (compat === 'xen') {
        expect(second.extended).toBe(false);
        expect(after.sha256![18]).toBe(before.sha256![18]);
      } else {
        expect(second.extended).toBe(true);
        expect(after.sha256![18]).not.toBe(before.sha256![18]);
      }
    }
  });

  it('a refused extend (PCR 18 from locality 0): xen logs it with extended:false, strict answers 422', async () => {
    const x = await session(['sha1', 'sha256'], 'xen');
    const r = await measure(x, blob(10, 1), 'locality=0');
    expect(r).toMatchObject({ logged: true, extended: false, tpmReturnCodeName: expect.stringMatching(/LOCALITY/) });
    const s = await session(['sha1', 'sha256'], 'strict');
    const before = await pcrs(s);
    const res = await post(`/v1/sessions/${s}/measurements?locality=0`, blob(10, 1));
    expect(res.status).toBe(422);
    expect(((await res.json()) as { type: string; tpmReturnCode: number }).tpmReturnCode).toBe(0x907);
    expect(await pcrs(s)).toEqual(before);
  });
});

describe('TCG2 log and the TXT heap pointer (TCG PC Client PFP, tboot HEAP_EVENT_LOG_POINTER_ELEMENT2_1)', () => {
  it('the log starts with a Spec ID Event03 header listing the allocated banks; POINTER2_1 tracks it', async () => {
    const id = await session(['sha1', 'sha256', 'sha384']);
    await post(`/v1/sessions/${id}/drtm`, blob(100, 1));
    await measure(id, blob(100, 2), 'hashing=tpm');
    const res = await srv.fetch(`/v1/sessions/${id}/event-log`, { headers: { accept: 'application/octet-stream' } });
    const log = Buffer.from(await res.arrayBuffer());
    expect(log.readUInt32LE(0)).toBe(0);
    expect(log.readUInt32LE(4)).toBe(3); // EV_NO_ACTION
    expect(log.subarray(32, 48).toString('latin1')).toBe('Spec ID Event03\0');
    expect(log.readUInt32LE(56)).toBe(3);
    expect([log.readUInt16LE(60), log.readUInt16LE(64), log.readUInt16LE(68)]).toEqual([0x0004, 0x000b, 0x000c]);
    const json = await srv.fetch(`/v1/sessions/${id}/event-log`, { headers: { accept: 'application/json' } });
    const j = (await json.json()) as { format: string; events: Array<{ pcr: number; type: number }> };
    expect(j.format).toBe('tcg2-agile');
    expect(j.events.map((e) => [e.pcr, e.type])).toEqual([
      [17, 0x402],
      [18, 0x502],
    ]);
    const p = await srv.fetch(`/v1/sessions/${id}/event-log/pointer`, { headers: { accept: 'application/json' } });
    const ptr = (await p.json()) as { allocatedEventContainerSize: number; firstRecordOffset: number; nextRecordOffset: number; bytes: string };
    expect(ptr.allocatedEventContainerSize).toBe(32768);
    expect(ptr.firstRecordOffset).toBe(0);
    expect(ptr.nextRecordOffset).toBe(log.length);
    const raw = await srv.fetch(`/v1/sessions/${id}/event-log/pointer`, { headers: { accept: 'application/octet-stream' } });
    const b = Buffer.from(await raw.arrayBuffer());
    expect(b.length).toBe(20);
    expect(b.readUInt32LE(16)).toBe(log.length);
    expect(b.toString('base64')).toBe(ptr.bytes);
  });

  it('the pointer element does not exist for TPM 1.2 sessions', async () => {
    const { data } = await srv.client.POST('/v1/sessions', { body: { family: '1.2' } });
    const r = await srv.fetch(`/v1/sessions/${data!.id}/event-log/pointer`, { headers: { accept: 'application/json' } });
    expect(r.status).toBe(400);
  });

  it('rejects a TPM 2.0 session with an unknown bank or an empty bank list', async () => {
    for (const body of ['{"family":"2.0","banks":["md5"]}', '{"family":"2.0","banks":[]}', '{"family":"2.0","banks":["sha1","sha1"]}']) {
      const r = await srv.fetch('/v1/sessions', { method: 'POST', body, headers: { 'content-type': 'application/json' } });
      expect(r.status, body).toBe(400);
    }
  });
});
