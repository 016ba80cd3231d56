/**
 * POST /measurements end to end: both hashing paths, multipart and octet-stream, the seed's (xen)
 * and strict log rules (docs/tpm-quirks.md#log-gap, #logged-but-not-extended), and bad input leaving PCRs and log untouched.
 */
import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startServer, hex, type TestServer } from '../support/server.js';
import { blob } from '../support/data.js';

let srv: TestServer;
beforeAll(async () => {
  srv = await startServer({ maxUploadBytes: 1024 * 1024 });
});
afterAll(async () => srv.close());
afterEach(() => expect(srv.violations.splice(0)).toEqual([]));

const sha1 = (...parts: Uint8Array[]): Buffer => {
  const h = createHash('sha1');
  for (const p of parts) h.update(p);
  return h.digest();
};


async function newSession(body: { compat?: 'xen' | 'strict'; logSize?: number } = {}): Promise<string> {
  const { data, response } = await srv.client.POST('/v1/sessions', { body: { family: '1.2', ...body } });
  expect(response.status).toBe(201);
  return data!.id;
}

/** Dynamic launch without the synthetic SINIT event, so the log holds only the seed's own events. */
async function drtm(id: string, data: Uint8Array = new Uint8Array(0)): Promise<void> {
  const res = await srv.fetch(`/v1/sessions/${id}/drtm?logEvent=false`, { method: 'POST', body: Buffer.from(data), headers: { 'content-type': 'application/octet-stream' } });
  expect(res.status).toBe(200);
}

async function measure(id: string, data: Uint8Array, query: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await srv.fetch(`/v1/sessions/${id}/measurements?${query}`, { method: 'POST', body: Buffer.from(data), headers: { 'content-type': 'application/octet-stream' } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function pcrs(id: string): Promise<string[]> {
  const { data } = await srv.client.GET('/v1/sessions/{id}/pcrs', { params: { path: { id } } });
  return data!.banks.sha1!;
}

async function logBytes(id: string): Promise<Buffer> {
  const res = await srv.fetch(`/v1/sessions/${id}/event-log`, { headers: { accept: 'application/octet-stream' } });
  expect(res.status).toBe(200);
  return Buffer.from(await res.arrayBuffer());
}

async function logJson(id: string): Promise<{ header: Record<string, number>; events: Array<Record<string, unknown>> }> {
  const res = await srv.fetch(`/v1/sessions/${id}/event-log`, { headers: { accept: 'application/json' } });
  expect(res.status).toBe(200);
  return (await res.json()) as { header: Record<string, number>; events: Array<Record<string, unknown>> };
}

describe('host and tpm hashing give the same PCR value (TPM_Extend vs SHA1CompleteExtend)', () => {
  for (const size of [0, 8, 64, 65, 128, 1088, 5000, 70_000]) {
    it(`${size} bytes`, async () => {
      const data = blob(size, size + 7);
      const a = await newSession();
      const b = await newSession();
      await drtm(a);
      await drtm(b);
      const host = await measure(a, data, 'hashing=host');
      const tpm = await measure(b, data, 'hashing=tpm');
      expect(host.status).toBe(201);
      expect(tpm.status).toBe(201);
      expect(host.body.pcrValue).toEqual(tpm.body.pcrValue);
      expect(host.body.digests).toEqual({ sha1: sha1(data).toString('hex') });
      expect(tpm.body.digests).toEqual({ sha1: sha1(data).toString('hex') });
      // PCR 18 after a launch is 0, so the value is SHA1(0^20 ‖ SHA1(data)).
      expect((await pcrs(a))[18]).toBe(sha1(new Uint8Array(20), sha1(data)).toString('hex'));
      expect(await logBytes(a)).toEqual(await logBytes(b));
    });
  }
});

describe('multipart uploads', () => {
  it('takes options as form fields placed before the file', async () => {
    const id = await newSession();
    await drtm(id);
    const data = blob(3000);
    const form = new FormData();
    form.append('pcr', '17');
    form.append('eventData', 'Measured MB2 module');
    form.append('hashing', 'tpm');
    form.append('blob', new Blob([data]), 'kernel');
    const res = await srv.fetch(`/v1/sessions/${id}/measurements`, { method: 'POST', body: form });
    expect(res.status).toBe(201);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ pcr: 17, hashing: 'tpm', logged: true, extended: true, eventIndex: 0, eventOffset: 48 });
    const log = await logJson(id);
    expect(log.events[0]).toMatchObject({ pcr: 17, type: 0x502, dataText: 'Measured MB2 module' });
  });

  it('rejects a field after the file and changes nothing', async () => {
    const id = await newSession();
    await drtm(id);
    const before = await pcrs(id);
    const form = new FormData();
    form.append('blob', new Blob([blob(100)]), 'x');
    form.append('pcr', '17');
    const res = await srv.fetch(`/v1/sessions/${id}/measurements`, { method: 'POST', body: form });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { type: string }).type).toBe('urn:tpm-measure:problem:malformed-upload');
    expect(await pcrs(id)).toEqual(before);
    expect((await logJson(id)).events).toHaveLength(0);
  });

  it('rejects a multipart body without a file', async () => {
    const id = await newSession();
    const form = new FormData();
    form.append('pcr', '18');
    const res = await srv.fetch(`/v1/sessions/${id}/measurements`, { method: 'POST', body: form });
    expect(res.status).toBe(400);
  });
});

describe('bad input extends nothing and logs nothing', () => {
  const bad: Array<[string, string, RequestInit, number, string]> = [
    ['pcr out of range', 'pcr=24', {}, 400, 'invalid-request'],
    ['locality out of range', 'locality=5', {}, 400, 'invalid-request'],
    ['unknown hashing', 'hashing=gpu', {}, 400, 'invalid-request'],
    ['unknown option', 'pcrr=17', {}, 400, 'invalid-request'],
    ['bad eventType', 'eventType=0x1ffffffff', {}, 400, 'invalid-request'],
    ['bad base64 eventData', 'eventData=base64:%21%21%21', {}, 400, 'invalid-option'],
    ['eventData not percent-encoded (lone %)', 'eventData=base64:%%%', {}, 400, 'invalid-request'],
    ['wrong content type', '', { headers: { 'content-type': 'text/plain' } }, 415, 'unsupported-media-type'],
    ['json body', '', { headers: { 'content-type': 'application/json' }, body: '{}' }, 415, 'unsupported-media-type'],
    ['too large', '', { body: Buffer.from(blob(1024 * 1024 + 1)) }, 413, 'payload-too-large'],
    ['multipart without boundary', '', { headers: { 'content-type': 'multipart/form-data' }, body: 'xx' }, 400, 'malformed-upload'],
  ];
  for (const [name, query, init, status, kind] of bad) {
    for (const hashing of ['host', 'tpm']) {
      it(`${name} (${hashing})`, async () => {
        const id = await newSession();
        await drtm(id);
        const pcrBefore = await pcrs(id);
        const logBefore = await logBytes(id);
        const q = query.startsWith('hashing') ? query : `hashing=${hashing}&${query}`;
        const res = await srv.fetch(`/v1/sessions/${id}/measurements?${q}`, {
          method: 'POST',
          body: Buffer.from(blob(100)),
          ...init,
          headers: { 'content-type': 'application/octet-stream', ...(init.headers as Record<string, string> | undefined) },
        });
        expect(res.status).toBe(status);
        expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
        expect(((await res.json()) as { type: string }).type).toBe(`urn:tpm-measure:problem:${kind}`);
        expect(await pcrs(id)).toEqual(pcrBefore);
        expect(await logBytes(id)).toEqual(logBefore);
      });
    }
  }

  it('hashing=tpm has its own, smaller limit (MAX_TPM_HASHING_BYTES)', async () => {
    const small = await startServer({ maxUploadBytes: 10_000, maxTpmHashingBytes: 1000 });
    try {
      const { data } = await small.client.POST('/v1/sessions', { body: {} });
      const post = (q: string, n: number) =>
        small.fetch(`/v1/sessions/${data!.id}/measurements?${q}`, { method: 'POST', body: Buffer.from(blob(n)), headers: { 'content-type': 'application/octet-stream' } });
      expect((await post('hashing=tpm', 1000)).status).toBe(201);
      expect((await post('hashing=tpm', 1001)).status).toBe(413);
      expect((await post('hashing=host', 5000)).status).toBe(201);
      expect((await post('hashing=host', 10_001)).status).toBe(413);
      expect(small.violations).toEqual([]);
    } finally {
      await small.close();
    }
  });

  for (const hashing of ['host', 'tpm']) {
    it(`a multipart upload aborted inside the file part changes nothing (${hashing})`, async () => {
      const id = await newSession();
      await drtm(id);
      const pcrBefore = await pcrs(id);
      const logBefore = await logBytes(id);
      const boundary = 'xBOUNDARYx';
      const head = Buffer.from(
        `--${boundary}\r\ncontent-disposition: form-data; name="hashing"\r\n\r\n${hashing}\r\n` +
          `--${boundary}\r\ncontent-disposition: form-data; name="blob"; filename="k"\r\ncontent-type: application/octet-stream\r\n\r\n`,
      );
      const url = new URL(`${srv.baseUrl}/v1/sessions/${id}/measurements`);
      await new Promise<void>((resolve) => {
        const req = httpRequest(url, { method: 'POST', headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': '200000' } });
        req.on('error', () => resolve());
        req.write(Buffer.concat([head, Buffer.from(blob(60_000))]), () => {
          setTimeout(() => {
            req.destroy();
            resolve();
          }, 100);
        });
      });
      await new Promise((r) => setTimeout(r, 100));
      expect(await pcrs(id)).toEqual(pcrBefore);
      expect(await logBytes(id)).toEqual(logBefore);
      const s = await srv.client.GET('/v1/sessions/{id}', { params: { path: { id } } });
      expect(s.data?.measurements).toBe(0);
    });
  }

  for (const hashing of ['host', 'tpm']) {
    it(`an upload aborted half way changes nothing (${hashing})`, async () => {
      const id = await newSession();
      await drtm(id);
      const pcrBefore = await pcrs(id);
      const logBefore = await logBytes(id);
      const url = new URL(`${srv.baseUrl}/v1/sessions/${id}/measurements?hashing=${hashing}`);
      await new Promise<void>((resolve) => {
        const req = httpRequest(url, { method: 'POST', headers: { 'content-type': 'application/octet-stream', 'content-length': '100000' } });
        req.on('error', () => resolve());
        req.write(Buffer.from(blob(50_000)), () => {
          setTimeout(() => {
            req.destroy();
            resolve();
          }, 100);
        });
      });
      // The aborted request must have left the session exactly as it was.
      await new Promise((r) => setTimeout(r, 100));
      expect(await pcrs(id)).toEqual(pcrBefore);
      expect(await logBytes(id)).toEqual(logBefore);
      const ok = await measure(id, blob(10), `hashing=${hashing}`);
      expect(ok.status).toBe(201);
      expect(ok.body.eventIndex).toBe(0);
    });
  }
});

describe('refused extends (libtpms PC Client pcrExtendLocal; logged but not extended)', () => {
  for (const hashing of ['host', 'tpm']) {
    it(`xen mode logs the event, reports extended:false and the TPM code (${hashing})`, async () => {
      const id = await newSession({ compat: 'xen' });
      await drtm(id);
      const before = await pcrs(id);
      // Locality 0 may not extend PCR 18 (pcrExtendLocal = 2,3,4).
      const r = await measure(id, blob(200), `hashing=${hashing}&locality=0`);
      expect(r.status).toBe(201);
      expect(r.body).toMatchObject({ logged: true, extended: false, tpmReturnCode: 0x3d, tpmReturnCodeName: 'TPM_BAD_LOCALITY' });
      expect(await pcrs(id)).toEqual(before);
      const log = await logJson(id);
      expect(log.events).toHaveLength(1);
      // Host path: Xen logged its software SHA-1; TPM path: the over-read leaves 20 × 0xFF.
      const expected = hashing === 'host' ? sha1(blob(200)).toString('hex') : 'ff'.repeat(20);
      expect(log.events[0]!.digests).toEqual({ sha1: expected });
    });

    it(`strict mode answers 422 with the TPM code and changes nothing (${hashing})`, async () => {
      const id = await newSession({ compat: 'strict' });
      await drtm(id);
      const before = await pcrs(id);
      const logBefore = await logBytes(id);
      const r = await measure(id, blob(200), `hashing=${hashing}&locality=0`);
      expect(r.status).toBe(422);
      expect(r.body).toMatchObject({ type: 'urn:tpm-measure:problem:tpm-refused', tpmReturnCode: 0x3d, tpmReturnCodeName: 'TPM_BAD_LOCALITY' });
      expect(await pcrs(id)).toEqual(before);
      expect(await logBytes(id)).toEqual(logBefore);
    });
  }

  it('before any dynamic launch PCR 17 is FF..FF, not zero, so locality 2 may extend it (PCR 17 zero rule, libtpms TPM_ExtendCommon)', async () => {
    const id = await newSession();
    // Before any launch PCR 17 is FF..FF: locality 2 may extend it.
    const r = await measure(id, blob(10), 'pcr=17');
    expect(r.body.extended).toBe(true);
  });
});

describe('log overflow: the gap (Xen slaunch patch create_log_event12)', () => {
  // Container of 48 + 2×(32+10) + 20 bytes: two small events fit, a big one does not.
  const logSize = 48 + 2 * 42 + 20;
  it('xen: a big event is skipped but extended, a later small one is still logged', async () => {
    const id = await newSession({ compat: 'xen', logSize });
    await drtm(id);
    const ev = (t: string) => `eventData=${t}`;
    expect((await measure(id, blob(10), ev('aaaaaaaaaa'))).body).toMatchObject({ logged: true, extended: true, eventIndex: 0 });
    const big = await measure(id, blob(10), ev('b'.repeat(100)));
    expect(big.body).toMatchObject({ logged: false, extended: true });
    expect((await measure(id, blob(10), ev('cccccccccc'))).body).toMatchObject({ logged: true, extended: true, eventIndex: 1 });
    const log = await logJson(id);
    expect(log.events.map((e) => e.dataText)).toEqual(['aaaaaaaaaa', 'cccccccccc']);
    expect(log.header.nextEventOffset).toBe(48 + 2 * 42);
    // The PCR holds three measurements while the log shows two: the gap.
    const p = await pcrs(id);
    let v: Buffer = Buffer.alloc(20);
    for (let i = 0; i < 3; i++) v = sha1(v, sha1(blob(10)));
    expect(p[18]).toBe(v.toString('hex'));
  });

  it('strict: after the first event that does not fit nothing more is logged, and the response says so', async () => {
    const id = await newSession({ compat: 'strict', logSize });
    await drtm(id);
    const ev = (t: string) => `eventData=${t}`;
    expect((await measure(id, blob(10), ev('aaaaaaaaaa'))).body).toMatchObject({ logged: true, logFull: false });
    expect((await measure(id, blob(10), ev('b'.repeat(100)))).body).toMatchObject({ logged: false, extended: true, logFull: true });
    expect((await measure(id, blob(10), ev('cccccccccc'))).body).toMatchObject({ logged: false, extended: true, logFull: true });
    expect((await logJson(id)).events).toHaveLength(1);
    const s = await srv.client.GET('/v1/sessions/{id}', { params: { path: { id } } });
    expect(s.data?.logFull).toBe(true);
  });
});

describe('event log as the seed leaves it in memory (TXT event container)', () => {
  it('octet-stream is the whole container; JSON decodes it', async () => {
    const id = await newSession({ logSize: 4096 });
    await drtm(id);
    await measure(id, blob(64), 'eventData=base64:AAEC');
    const bytes = await logBytes(id);
    expect(bytes.length).toBe(4096);
    expect(bytes.subarray(0, 20).toString('latin1')).toBe('TXT Event Container\0');
    expect([...bytes.subarray(32, 36)]).toEqual([1, 0, 1, 0]);
    expect(bytes.readUInt32LE(36)).toBe(4096);
    expect(bytes.readUInt32LE(40)).toBe(48);
    expect(bytes.readUInt32LE(44)).toBe(48 + 32 + 3);
    expect(bytes.readUInt32LE(48)).toBe(18);
    expect(bytes.readUInt32LE(52)).toBe(0x502);
    expect(bytes.subarray(56, 76).toString('hex')).toBe(sha1(blob(64)).toString('hex'));
    expect(bytes.readUInt32LE(76)).toBe(3);
    expect([...bytes.subarray(80, 83)]).toEqual([0, 1, 2]);
    const json = await logJson(id);
    expect(json.events[0]).toMatchObject({ index: 0, offset: 48, pcr: 18, type: 0x502, typeName: 'DLE_EVTYPE_SLAUNCH', data: 'AAEC' });
  });

  it('406 when neither representation is acceptable', async () => {
    const id = await newSession();
    const res = await srv.fetch(`/v1/sessions/${id}/event-log`, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(406);
  });
});

describe('per-session queue', () => {
  it('a request that arrives during an upload waits for it (arrival order: the SHA-1 thread must not be interrupted)', async () => {
    const id = await newSession();
    await drtm(id);
    const data = blob(20_000);
    const url = new URL(`${srv.baseUrl}/v1/sessions/${id}/measurements?hashing=tpm`);
    const upload = new Promise<number>((resolve, reject) => {
      const req = httpRequest(url, { method: 'POST', headers: { 'content-type': 'application/octet-stream', 'content-length': String(data.length) } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.write(Buffer.from(data.subarray(0, 10_000)));
      setTimeout(() => req.end(Buffer.from(data.subarray(10_000))), 300);
    });
    await new Promise((r) => setTimeout(r, 100));
    // Arrives while the SHA-1 thread is open: must not run in between (it would kill the thread).
    const read = await pcrs(id);
    expect(await upload).toBe(201);
    // The read arrived while the upload was open; it can only show the extended PCR 18 if it waited
    // for the whole upload (running in between would also have killed the SHA-1 thread).
    expect(read[18]).toBe(sha1(new Uint8Array(20), sha1(data)).toString('hex'));
  });

  it('queued measurements keep their order', async () => {
    const id = await newSession();
    await drtm(id);
    const n = 10;
    for (let i = 0; i < n; i++) expect((await measure(id, blob(100 + i, i), `eventData=e${i}&hashing=${i % 2 ? 'tpm' : 'host'}`)).status).toBe(201);
    const log = await logJson(id);
    expect(log.events.map((e) => e.dataText)).toEqual(Array.from({ length: n }, (_, i) => `e${i}`));
    let v: Buffer = Buffer.alloc(20);
    for (let i = 0; i < n; i++) v = sha1(v, sha1(blob(100 + i, i)));
    expect((await pcrs(id))[18]).toBe(v.toString('hex'));
  });
});

void hex;
