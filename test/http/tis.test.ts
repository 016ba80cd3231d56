/**
 * The TIS register interface over HTTP (TCG PC Client TIS / PTP FIFO, as QEMU models it): MMIO batches run in order and atomically, the
 * decoded state, and what happens to the service's own FIFO users when a client holds a locality.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../support/server.js';

let srv: TestServer;
beforeAll(async () => {
  srv = await startServer();
});
afterAll(async () => srv.close());
afterEach(() => expect(srv.violations.splice(0)).toEqual([]));

const ACCESS = (l: number) => l * 0x1000 + 0x00;
const STS = (l: number) => l * 0x1000 + 0x18;
const FIFO = (l: number) => l * 0x1000 + 0x24;
const INTF_CAP = 0x14;
const DID_VID = 0xf00;

async function session(family: '1.2' | '2.0' = '1.2'): Promise<string> {
  const { data } = await srv.client.POST('/v1/sessions', { body: { family } });
  return data!.id;
}

type Op = Record<string, unknown>;
async function mmio(id: string, ops: Op[]): Promise<{ status: number; body: { results?: Array<Record<string, unknown>>; type?: string } }> {
  const r = await srv.fetch(`/v1/sessions/${id}/mmio`, { method: 'POST', body: JSON.stringify({ ops }), headers: { 'content-type': 'application/json' } });
  return { status: r.status, body: (await r.json()) as { results?: Array<Record<string, unknown>>; type?: string } };
}

describe('POST /mmio', () => {
  it('a whole TPM_PCRRead through the FIFO at locality 0, as a driver would do it', async () => {
    const id = await session();
    const cmd = Buffer.from('00c10000000e0000001500000011', 'hex');
    const { status, body } = await mmio(id, [
      { op: 'read', offset: ACCESS(0), size: 1 },
      { op: 'write', offset: ACCESS(0), size: 1, value: 0x02 },
      { op: 'poll', offset: ACCESS(0), size: 1, mask: 0xa0, value: 0xa0, maxReads: 10 },
      { op: 'write', offset: STS(0), size: 1, value: 0x40 },
      { op: 'poll', offset: STS(0), size: 1, mask: 0x40, value: 0x40, maxReads: 10 },
      { op: 'writeBytes', offset: FIFO(0), data: cmd.toString('base64') },
      { op: 'read', offset: STS(0), size: 1 },
      { op: 'write', offset: STS(0), size: 1, value: 0x20 },
      { op: 'poll', offset: STS(0), size: 1, mask: 0x90, value: 0x90, maxReads: 100 },
      { op: 'readBytes', offset: FIFO(0), count: 30 },
      { op: 'read', offset: STS(0), size: 1 },
      { op: 'readBytes', offset: FIFO(0), count: 2 },
      { op: 'write', offset: STS(0), size: 1, value: 0x40 },
      { op: 'write', offset: ACCESS(0), size: 1, value: 0x20 },
      { op: 'read', offset: ACCESS(0), size: 1 },
    ]);
    expect(status).toBe(200);
    const r = body.results!;
    expect(r[0]).toEqual({ value: 0x81 }); // tpmRegValidSts | tpmEstablishment (no launch yet), as QEMU's qtest expects
    expect(r[2]).toMatchObject({ matched: true });
    expect(r[6]).toEqual({ value: 0x80 }); // whole command in: stsValid, Expect clear
    expect(r[8]).toMatchObject({ matched: true });
    expect(Buffer.from(r[9]!.data as string, 'base64').toString('hex')).toBe('00c40000001e00000000' + 'ff'.repeat(20));
    expect(r[10]).toEqual({ value: 0x80 }); // after the last byte: stsValid only (docs/tpm-quirks.md#fifo-over-read)
    expect(Buffer.from(r[11]!.data as string, 'base64').toString('hex')).toBe('ffff'); // over-read
    expect(r[14]).toEqual({ value: 0x81 });
  });

  it('reads INTF_CAPABILITY and DID_VID with the documented defaults per profile (QEMU values)', async () => {
    const a = await session('1.2');
    const b = await session('2.0');
    const ra = await mmio(a, [{ op: 'read', offset: DID_VID, size: 4 }, { op: 'read', offset: STS(0), size: 4 }]);
    const rb = await mmio(b, [{ op: 'read', offset: INTF_CAP, size: 4 }, { op: 'read', offset: STS(0), size: 4 }]);
    expect(ra.body.results![0]).toEqual({ value: 0x00011014 });
    expect(rb.body.results![0]).toEqual({ value: 0x30000697 });
    // Locality 0 is not active: STS reads all-ones, so Xen's family check sees TPM 2.0 (docs/tpm-quirks.md#family-detection).
    expect(rb.body.results![1]).toEqual({ value: 0xffffffff });
  });

  it('a poll that never matches stops after maxReads and says so', async () => {
    const id = await session();
    const { body } = await mmio(id, [{ op: 'poll', offset: ACCESS(1), size: 1, mask: 0x20, value: 0x20, maxReads: 7 }]);
    expect(body.results![0]).toMatchObject({ reads: 7, matched: false });
  });

  const bad: Array<[string, Op]> = [
    ['unknown op', { op: 'jump', offset: 0 }],
    ['offset past the five localities', { op: 'read', offset: 0x5000, size: 1 }],
    ['size 3', { op: 'read', offset: 0, size: 3 }],
    ['value too wide for the size', { op: 'write', offset: 0, size: 1, value: 0x100 }],
    ['maxReads 0', { op: 'poll', offset: 0, size: 1, mask: 1, value: 1, maxReads: 0 }],
    ['bad base64', { op: 'writeBytes', offset: 0x24, data: '!!' }],
  ];
  for (const [name, op] of bad) {
    it(`${name} → 400 and nothing in the batch is applied`, async () => {
      const id = await session();
      const before = await srv.client.GET('/v1/sessions/{id}/tis', { params: { path: { id } } });
      const { status, body } = await mmio(id, [{ op: 'write', offset: ACCESS(0), size: 1, value: 0x02 }, op]);
      expect(status).toBe(400);
      expect(body.type).toBe('urn:tpm-measure:problem:invalid-request');
      const after = await srv.client.GET('/v1/sessions/{id}/tis', { params: { path: { id } } });
      expect(after.data).toEqual(before.data);
    });
  }
});

describe('GET /tis and the service sharing the interface with MMIO clients', () => {
  it('shows the active locality after a request', async () => {
    const id = await session();
    await mmio(id, [{ op: 'write', offset: ACCESS(3), size: 1, value: 0x02 }]);
    const { data } = await srv.client.GET('/v1/sessions/{id}/tis', { params: { path: { id } } });
    expect(data?.activeLocality).toBe(3);
  });

  it('hashing=tpm while a client holds another locality → 409, nothing changes; works once released', async () => {
    const id = await session();
    await mmio(id, [{ op: 'write', offset: ACCESS(0), size: 1, value: 0x02 }]);
    const pcrsBefore = await srv.client.GET('/v1/sessions/{id}/pcrs', { params: { path: { id } } });
    const post = () => srv.fetch(`/v1/sessions/${id}/measurements?hashing=tpm`, { method: 'POST', body: Buffer.alloc(100, 1), headers: { 'content-type': 'application/octet-stream' } });
    const r = await post();
    expect(r.status).toBe(409);
    expect(((await r.json()) as { type: string }).type).toBe('urn:tpm-measure:problem:locality-busy');
    expect((await srv.client.GET('/v1/sessions/{id}/pcrs', { params: { path: { id } } })).data).toEqual(pcrsBefore.data);
    const state = await srv.client.GET('/v1/sessions/{id}/tis', { params: { path: { id } } });
    expect(state.data?.activeLocality).toBe(0);
    await mmio(id, [{ op: 'write', offset: ACCESS(0), size: 1, value: 0x20 }]);
    expect((await post()).status).toBe(201);
  });

  it('/drtm while locality 0 is held → 409 (the interface ignores the cycles, libtpms TPM12_IO_Hash_Start)', async () => {
    const id = await session();
    await mmio(id, [{ op: 'write', offset: ACCESS(0), size: 1, value: 0x02 }]);
    const r = await srv.fetch(`/v1/sessions/${id}/drtm`, { method: 'POST' });
    expect(r.status).toBe(409);
  });

  it('after /drtm, ACCESS.tpmEstablishment reads 0 in every locality (QEMU tpm_tis_mmio_read)', async () => {
    const id = await session();
    await srv.fetch(`/v1/sessions/${id}/drtm`, { method: 'POST' });
    const { body } = await mmio(id, [0, 1, 2, 3].map((l) => ({ op: 'read', offset: ACCESS(l), size: 1 })));
    expect(body.results!.map((x) => (x.value as number) & 1)).toEqual([0, 0, 0, 0]);
  });
});

describe('TIS options at session creation (profile, DID_VID/RID, Xen family detection)', () => {
  it('DID_VID, RID and the burstCount maximum are configurable and shown on the session', async () => {
    const { data, response } = await srv.client.POST('/v1/sessions', { body: { family: '1.2', tisProfile: 'tis-1.3', tis: { didVid: 0x001a15d1, rid: 0x10, burstMax: 0xff } } });
    expect(response.status).toBe(201);
    expect(data?.tis).toEqual({ didVid: 0x001a15d1, rid: 0x10, burstMax: 0xff });
    const id = data!.id;
    const { body } = await mmio(id, [
      { op: 'read', offset: DID_VID, size: 4 },
      { op: 'read', offset: 0xf04, size: 1 },
      { op: 'read', offset: INTF_CAP, size: 4 },
      { op: 'write', offset: ACCESS(0), size: 1, value: 0x02 },
      { op: 'read', offset: STS(0) + 1, size: 2 },
    ]);
    expect(body.results!.slice(0, 3)).toEqual([{ value: 0x001a15d1 }, { value: 0x10 }, { value: 0x20000697 }]);
    expect(body.results![4]).toEqual({ value: 0xff });
  });

  it('a profile that announces the other family is refused', async () => {
    for (const body of [
      { family: '2.0', tisProfile: 'tis-1.2' },
      { family: '2.0', tisProfile: 'tis-1.3' },
      { family: '1.2', tisProfile: 'ptp-fifo' },
    ] as const) {
      const r = await srv.client.POST('/v1/sessions', { body });
      expect(r.response.status, JSON.stringify(body)).toBe(400);
      expect(r.error).toMatchObject({ type: 'urn:tpm-measure:problem:invalid-option' });
    }
  });
});
