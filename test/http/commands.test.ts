/**
 * Raw TPM access over HTTP: /commands answers the TPM's bytes with HTTP 200 even for TPM errors;
 * /drtm runs the dynamic launch; /pcrs shows every bank.
 */
import { connect } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../support/server.js';

let srv: TestServer;
beforeAll(async () => {
  srv = await startServer({ maxCommandBytes: 8192 });
});
afterAll(async () => srv.close());
afterEach(() => expect(srv.violations.splice(0)).toEqual([]));

const PCRREAD_17 = '00c10000000e0000001500000011';
const EXTEND_18 = '00c1000000220000001400000012' + '11'.repeat(20);

async function session(body: { family?: "1.2" | "2.0"; startup?: boolean } = { family: "1.2" }): Promise<string> {
  const { data } = await srv.client.POST('/v1/sessions', { body });
  return data!.id;
}

async function send(id: string, hexCmd: string, locality?: number): Promise<{ status: number; hex: string; rc: string | null }> {
  const res = await srv.fetch(`/v1/sessions/${id}/commands${locality === undefined ? '' : `?locality=${locality}`}`, {
    method: 'POST',
    body: Buffer.from(hexCmd, 'hex'),
    headers: { 'content-type': 'application/octet-stream' },
  });
  const buf = Buffer.from(await res.arrayBuffer());
  return { status: res.status, hex: buf.toString('hex'), rc: res.headers.get('x-tpm-return-code') };
}

describe('POST /commands (TPM 1.2 commands, TPM Main Part 3)', () => {
  it('answers the raw response; PCR 17 is FF..FF before a launch', async () => {
    const id = await session();
    const r = await send(id, PCRREAD_17);
    expect(r).toEqual({ status: 200, hex: '00c40000001e00000000' + 'ff'.repeat(20), rc: '0x00000000' });
  });

  it('a TPM error is still HTTP 200 with the error bytes (TPM_BAD_LOCALITY from locality 0)', async () => {
    const id = await session();
    const r = await send(id, EXTEND_18, 0);
    expect(r).toEqual({ status: 200, hex: '00c40000000a0000003d', rc: '0x0000003d' });
    expect((await send(id, EXTEND_18, 2)).hex).toMatch(/^00c40000001e00000000/);
  });

  it('a session created with startup:false needs TPM_Startup first', async () => {
    const id = await session({ family: '1.2', startup: false });
    expect((await send(id, PCRREAD_17)).hex).toBe('00c40000000a00000026');
    expect((await send(id, '00c10000000c000000990001')).hex).toBe('00c40000000a00000000');
    expect((await send(id, PCRREAD_17)).hex).toMatch(/^00c40000001e00000000/);
  });

  const bad: Array<[string, string, RequestInit, number, string]> = [
    ['locality 5', '?locality=5', {}, 400, 'invalid-request'],
    ['locality -1', '?locality=-1', {}, 400, 'invalid-request'],
    ['locality not a number', '?locality=two', {}, 400, 'invalid-request'],
    ['wrong content type', '', { headers: { 'content-type': 'text/plain' } }, 415, 'unsupported-media-type'],
    ['oversized command', '', { body: Buffer.alloc(8193) }, 413, 'payload-too-large'],
  ];
  for (const [name, q, init, status, kind] of bad) {
    it(`${name} → ${status}, PCRs unchanged`, async () => {
      const id = await session();
      const before = await srv.client.GET('/v1/sessions/{id}/pcrs', { params: { path: { id } } });
      const res = await srv.fetch(`/v1/sessions/${id}/commands${q}`, {
        method: 'POST',
        body: Buffer.from(EXTEND_18, 'hex'),
        ...init,
        headers: { 'content-type': 'application/octet-stream', ...(init.headers as Record<string, string> | undefined) },
      });
      expect(res.status).toBe(status);
      expect(((await res.json()) as { type: string }).type).toBe(`urn:tpm-measure:problem:${kind}`);
      const after = await srv.client.GET('/v1/sessions/{id}/pcrs', { params: { path: { id } } });
      expect(after.data).toEqual(before.data);
    });
  }

  it('truncated and malformed commands get the TPM\'s own error response, not an HTTP error', async () => {
    const id = await session();
    for (const cmd of ['', '00', '00c1000000', '00c10000000e00000015', '00c1ffffffff0000001500000011']) {
      const r = await send(id, cmd);
      expect(r.status).toBe(200);
      expect(r.hex.slice(0, 4)).toBe('00c4');
      expect(r.hex.length).toBe(20);
    }
  });

  it('unknown session → 404 problem', async () => {
    const r = await srv.fetch('/v1/sessions/nope/commands', { method: 'POST', body: Buffer.from(PCRREAD_17, 'hex'), headers: { 'content-type': 'application/octet-stream' } });
    expect(r.status).toBe(404);
  });
});

describe('POST /drtm (TPM_HASH_START/DATA/END, libtpms tpm_tpm12_tis.c)', () => {
  it('resets PCR 17–22 and extends PCR 17 with SHA1(0^20 ‖ SHA1(data))', async () => {
    const id = await session();
    const res = await srv.client.POST('/v1/sessions/{id}/drtm', {
      params: { path: { id } },
      body: new Uint8Array(0) as unknown as string,
      bodySerializer: (b: unknown) => b as never,
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(res.response.status).toBe(200);
    expect(res.data?.returnCode).toBe(0);
    expect(res.data?.established).toBe(true);
    const sha1 = res.data!.banks.sha1!;
    expect(sha1[17]).toBe('31a2dc4c22f9c5444a41625d05f95898e055f750');
    for (const i of [18, 19, 20, 21, 22]) expect(sha1[i]).toBe('00'.repeat(20));
    expect(sha1[16]).toBe('00'.repeat(20));
  });
});

/** One HTTP/1.1 request written in pieces (head, then body parts, `gapMs` apart); the response's status and body. */
async function piecewise(id: string, pieces: (body: Buffer) => Buffer[], body: Buffer, gapMs: number, contentLength = body.length): Promise<{ status: number; hex: string }> {
  const port = Number(new URL(srv.baseUrl).port);
  const sock = connect(port, '127.0.0.1');
  await new Promise<void>((r) => sock.once('connect', () => r()));
  const got: Buffer[] = [];
  sock.on('data', (d: Buffer) => got.push(d));
  const closed = new Promise<void>((r) => sock.once('close', () => r()));
  sock.write(`POST /v1/sessions/${id}/commands?locality=2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/octet-stream\r\nContent-Length: ${contentLength}\r\n\r\n`);
  for (const p of pieces(body)) {
    await new Promise((r) => setTimeout(r, gapMs));
    sock.write(p);
  }
  const timer = setTimeout(() => sock.destroy(), 5000);
  await closed;
  clearTimeout(timer);
  const all = Buffer.concat(got);
  const sep = all.indexOf('\r\n\r\n');
  return { status: Number(all.subarray(9, 12).toString()), hex: all.subarray(sep + 4).toString('hex') };
}

describe('POST /commands: however the body arrives', () => {
  it('with the head, after it, in pieces, or announced longer than sent: the same answer, or nothing applied', async () => {
    const ext = Buffer.from(EXTEND_18, 'hex');
    const answers: string[] = [];
    for (const [name, pieces, gap] of [
      ['with the head', (b: Buffer) => [b], 0],
      ['50 ms after the head', (b: Buffer) => [b], 50],
      ['in three pieces', (b: Buffer) => [b.subarray(0, 5), b.subarray(5, 20), b.subarray(20)], 20],
    ] as const) {
      const id = await session();
      const r = await piecewise(id, pieces, ext, gap);
      expect(r.status, name).toBe(200);
      answers.push(r.hex);
    }
    expect(new Set(answers).size).toBe(1);
    // Content-Length larger than what comes, then the client goes away: nothing is extended.
    const id = await session();
    const before = (await send(id, '00c10000000e0000001500000012')).hex;
    const port = Number(new URL(srv.baseUrl).port);
    const sock = connect(port, '127.0.0.1');
    await new Promise<void>((r) => sock.once('connect', () => r()));
    sock.write(`POST /v1/sessions/${id}/commands?locality=2 HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: ${ext.length + 10}\r\n\r\n`);
    sock.write(ext);
    await new Promise((r) => setTimeout(r, 50));
    sock.destroy();
    await new Promise((r) => setTimeout(r, 100));
    expect((await send(id, '00c10000000e0000001500000012')).hex).toBe(before);
  });
});

