/**
 * Slow, dead and misbehaving socket clients: the service stays up, the session stays usable and
 * nothing is half-applied. Where swtpm defines an answer (a command that lies about its size, one
 * larger than the buffer, garbage on the control channel) the session answers the same bytes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../support/server.js';
import { describeWithSwtpm } from '../support/swtpm.js';
import { blob } from '../support/data.js';
import { randomBase, SwtpmTcp } from '../support/swtpm-tcp.js';
import { be32, ctrlReq, RawClient, tpm12 } from '../support/raw-socket.js';

const PCR_READ_16 = tpm12(0x15, be32(16));

let srv: TestServer;
const base = randomBase(20000, 29900, 100);
beforeAll(async () => {
  // A short idle timeout so the idle test does not wait minutes.
  srv = await startServer({ socketPortRange: [base, base + 99], socketIdleMs: 5000 });
});
afterAll(async () => {
  await srv.close();
});

async function session(family: '1.2' | '2.0' = '1.2'): Promise<{ id: string; dataPort: number; ctrlPort: number }> {
  const { data: s } = await srv.client.POST('/v1/sessions', { body: { family } });
  const res = await srv.fetch(`/v1/sessions/${s!.id}/socket`, { method: 'POST' });
  expect(res.status).toBe(201);
  const v = (await res.json()) as { dataPort: number; ctrlPort: number };
  return { id: s!.id, ...v };
}

async function pcrs(id: string): Promise<Record<string, string[]>> {
  const r = await srv.fetch(`/v1/sessions/${id}/pcrs`);
  expect(r.status).toBe(200);
  return ((await r.json()) as { banks: Record<string, string[]> }).banks;
}

/** Every response frame the server sends until it has been quiet for a while (or closed). */
async function drain(c: RawClient, quietMs = 2500): Promise<string[]> {
  const out: string[] = [];
  for (;;) {
    try {
      const r = await c.response(quietMs);
      if (!r) return out;
      out.push(r.toString('hex'));
    } catch {
      return out;
    }
  }
}

describeWithSwtpm('misbehaving clients: the same answers as swtpm', () => {
  let peer: SwtpmTcp;
  beforeAll(async () => {
    peer = await SwtpmTcp.start({ startupClear: true, ports: [30000, 39000] });
  });
  afterAll(async () => {
    await peer.stop();
  });

  async function both(send: (c: RawClient) => void, port: (s: { dataPort: number; ctrlPort: number }) => number, read: (c: RawClient) => Promise<string[]>): Promise<{ ours: string[]; theirs: string[]; id: string }> {
    const s = await session();
    const results: string[][] = [];
    for (const p of [port({ dataPort: peer.dataPort, ctrlPort: peer.ctrlPort }), port(s)]) {
      const c = await RawClient.connect(p);
      send(c);
      results.push(await read(c));
      c.close();
    }
    return { theirs: results[0] as string[], ours: results[1] as string[], id: s.id };
  }

  it('a command whose size field announces more than is sent: the same size error', async () => {
    // TPM_PCRRead that claims 100 bytes but sends its 14.
    const lying = Buffer.concat([Buffer.from([0x00, 0xc1]), be32(100), be32(0x15), be32(16)]);
    const { ours, theirs, id } = await both((c) => c.write(lying), (s) => s.dataPort, (c) => drain(c));
    expect(theirs).toHaveLength(1);
    expect(ours).toEqual(theirs);
    expect(Object.keys(await pcrs(id))).toEqual(['sha1']);
  });

  it('a command larger than the TPM buffer: the same responses (swtpm reads 4105 bytes, then the rest)', async () => {
    const big = Buffer.concat([Buffer.from([0x00, 0xc1]), be32(6000), be32(0x14), be32(16), blob(6000 - 14, 9)]);
    const before = (await pcrs((await session()).id)).sha1?.[16];
    const { ours, theirs, id } = await both((c) => c.write(big), (s) => s.dataPort, (c) => drain(c));
    expect(theirs.length).toBeGreaterThanOrEqual(1);
    expect(ours).toEqual(theirs);
    expect((await pcrs(id)).sha1?.[16]).toBe(before); // nothing extended
  });

  it('garbage on the control channel: the same replies', async () => {
    const garbage = Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    const { ours, theirs } = await both(
      (c) => c.write(garbage),
      (s) => s.ctrlPort,
      async (c) => {
        const out: string[] = [];
        for (;;) {
          const r = await c.bytes(4, 2500).catch(() => null);
          if (!r) return out;
          out.push(r.toString('hex'));
        }
      },
    );
    expect(theirs.length).toBeGreaterThanOrEqual(1);
    expect(ours).toEqual(theirs);
  });
});

describe('misbehaving clients never block the service', () => {
  it('a half-sent command does not hold the session: HTTP works meanwhile; closing applies nothing', async () => {
    const s = await session();
    const before = await pcrs(s.id);
    const c = await RawClient.connect(s.dataPort);
    // TPM_Extend(16) cut after 8 of its 34 bytes.
    c.write(tpm12(0x14, Buffer.concat([be32(16), blob(20, 1)])).subarray(0, 8));
    const m = await srv.fetch(`/v1/sessions/${s.id}/measurements?pcr=17&locality=2`, { method: 'POST', body: blob(1000, 2), headers: { 'content-type': 'application/octet-stream' } });
    expect(m.status).toBe(201);
    c.close();
    const after = await pcrs(s.id);
    expect(after.sha1?.[16]).toBe(before.sha1?.[16]);
    expect(after.sha1?.[17]).not.toBe(before.sha1?.[17]);
    // The data channel takes the next client.
    const d = await RawClient.connect(s.dataPort);
    expect((await d.command(PCR_READ_16)).readUInt32BE(6)).toBe(0);
    d.close();
  });

  it('a client that never reads: HTTP and other sessions keep working; the channel recovers when it leaves', async () => {
    const s = await session();
    const c = await RawClient.connect(s.dataPort);
    c.sock.pause(); // never read
    const getRandom = tpm12(0x46, be32(4096));
    for (let i = 0; i < 2000; i++) c.write(getRandom);
    const other = await session();
    expect(Object.keys(await pcrs(other.id))).toEqual(['sha1']);
    expect(Object.keys(await pcrs(s.id))).toEqual(['sha1']);
    c.close();
    const d = await RawClient.connect(s.dataPort);
    expect((await d.command(PCR_READ_16)).readUInt32BE(6)).toBe(0);
    d.close();
  });

  it('one client per channel: a second connection waits for the first to leave, then is served', async () => {
    const s = await session();
    const a = await RawClient.connect(s.dataPort);
    const b = await RawClient.connect(s.dataPort);
    const bResponse = b.command(PCR_READ_16);
    expect((await a.command(PCR_READ_16)).readUInt32BE(6)).toBe(0);
    expect(((await (await srv.fetch(`/v1/sessions/${s.id}/socket`)).json()) as { dataClient: boolean }).dataClient).toBe(true);
    a.close();
    expect((await bResponse).readUInt32BE(6)).toBe(0);
    b.close();
  });

  it('HASH_DATA announcing more than 4096 bytes: TPM_BAD_PARAMETER and the connection closes; nothing applied', async () => {
    const s = await session();
    const before = await pcrs(s.id);
    const c = await RawClient.connect(s.ctrlPort);
    c.write(ctrlReq(7, be32(1_000_000)));
    expect((await c.bytes(4))?.readUInt32BE(0)).toBe(3);
    expect(await c.waitClosed()).toBe(true);
    expect(await pcrs(s.id)).toEqual(before);
  });

  it('a silent client is disconnected after SOCKET_IDLE_SECONDS', async () => {
    const s = await session();
    const c = await RawClient.connect(s.ctrlPort);
    expect(await c.waitClosed(20_000)).toBe(true);
  });

  it('an MMIO client holding a TIS locality blocks the socket with TPM_RETRY (data) and 0x800 (HASH_START), not a hang', async () => {
    for (const family of ['1.2', '2.0'] as const) {
      const s = await session(family);
      const mmio = (value: number) =>
        srv.fetch(`/v1/sessions/${s.id}/mmio`, { method: 'POST', body: JSON.stringify({ ops: [{ op: 'write', offset: 0, size: 1, value }] }), headers: { 'content-type': 'application/json' } });
      expect((await mmio(0x02)).status).toBe(200); // TPM_ACCESS_0.requestUse
      const d = await RawClient.connect(s.dataPort);
      const cmd = family === '1.2' ? PCR_READ_16 : Buffer.from('80010000001400000 17e00000001000403000001'.replace(/ /g, ''), 'hex');
      expect((await d.command(cmd)).readUInt32BE(6)).toBe(family === '1.2' ? 0x800 : 0x922);
      const c = await RawClient.connect(s.ctrlPort);
      c.write(ctrlReq(6));
      expect((await c.bytes(4))?.readUInt32BE(0)).toBe(0x800);
      expect((await mmio(0x20)).status).toBe(200); // activeLocality: relinquish
      expect((await d.command(cmd)).readUInt32BE(6)).toBe(0);
      d.close();
      c.close();
    }
  });
});
