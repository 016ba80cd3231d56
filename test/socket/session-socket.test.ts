/**
 * The socket as an HTTP resource (open, show, close; session delete/expiry closes it), the
 * per-session queue shared by socket and HTTP (a socket SHA-1 thread is never cut by HTTP
 * measurements; the log still replays), extendsOutsideLog, and the SOCKET_* configuration.
 */
import { createHash } from 'node:crypto';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { startServer, type TestServer } from '../support/server.js';
import { blob } from '../support/data.js';
import { randomBase } from '../support/swtpm-tcp.js';
import { be32, ctrlReq, RawClient, tpm12 } from '../support/raw-socket.js';

let srv: TestServer;
const base = randomBase(20000, 29900, 100);
let clock = Date.now();
beforeAll(async () => {
  srv = await startServer({ socketPortRange: [base, base + 99], sessionTtlMs: 60_000 }, { now: () => clock });
});
afterAll(async () => {
  await srv.close();
});

async function newSession(body: Record<string, unknown> = { family: '1.2' }): Promise<string> {
  const r = await srv.fetch('/v1/sessions', { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  expect(r.status).toBe(201);
  return ((await r.json()) as { id: string }).id;
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', () => resolve(true));
  });
}

describe('/v1/sessions/{id}/socket', () => {
  it('POST opens adjacent ports in the range (201), again returns the same (200); GET shows; DELETE closes', async () => {
    const id = await newSession();
    const r1 = await srv.fetch(`/v1/sessions/${id}/socket`, { method: 'POST' });
    expect(r1.status).toBe(201);
    const v = (await r1.json()) as { host: string; dataPort: number; ctrlPort: number; tcti: string; running: boolean; locality: number };
    expect(v.host).toBe('127.0.0.1');
    expect(v.ctrlPort).toBe(v.dataPort + 1);
    expect(v.dataPort).toBeGreaterThanOrEqual(base);
    expect(v.ctrlPort).toBeLessThanOrEqual(base + 99);
    expect(v.tcti).toBe(`swtpm:host=127.0.0.1,port=${v.dataPort}`);
    const r2 = await srv.fetch(`/v1/sessions/${id}/socket`, { method: 'POST' });
    expect(r2.status).toBe(200);
    expect(((await r2.json()) as { dataPort: number }).dataPort).toBe(v.dataPort);
    // The control channel's locality shows in GET.
    const c = await RawClient.connect(v.ctrlPort);
    c.write(ctrlReq(5, Uint8Array.of(3)));
    expect((await c.bytes(4))?.readUInt32BE(0)).toBe(0);
    c.close();
    expect(((await (await srv.fetch(`/v1/sessions/${id}/socket`)).json()) as { locality: number }).locality).toBe(3);
    expect((await srv.fetch(`/v1/sessions/${id}/socket`, { method: 'DELETE' })).status).toBe(204);
    expect(await refused(v.dataPort)).toBe(true);
    expect(await refused(v.ctrlPort)).toBe(true);
    const g = await srv.fetch(`/v1/sessions/${id}/socket`);
    expect(g.status).toBe(404);
    expect(((await g.json()) as { type: string }).type).toBe('urn:tpm-measure:problem:not-found');
    expect((await srv.fetch(`/v1/sessions/${id}/socket`, { method: 'DELETE' })).status).toBe(404);
    expect((await srv.fetch('/v1/sessions/nope/socket', { method: 'POST' })).status).toBe(404);
    expect(srv.violations).toEqual([]);
  });

  it('two POSTs at once open one socket (one 201, one 200, same ports)', async () => {
    const id = await newSession();
    const [a, b] = await Promise.all([0, 1].map(() => srv.fetch(`/v1/sessions/${id}/socket`, { method: 'POST' })));
    expect([a?.status, b?.status].sort()).toEqual([200, 201]);
    const pa = ((await a?.json()) as { dataPort: number }).dataPort;
    const pb = ((await b?.json()) as { dataPort: number }).dataPort;
    expect(pa).toBe(pb);
    expect((await srv.fetch(`/v1/sessions/${id}/socket`, { method: 'DELETE' })).status).toBe(204);
  });

  it('deleting the session closes its socket and disconnects its clients', async () => {
    const id = await newSession();
    const v = (await (await srv.fetch(`/v1/sessions/${id}/socket`, { method: 'POST' })).json()) as { dataPort: number; ctrlPort: number };
    const c = await RawClient.connect(v.dataPort);
    expect((await srv.fetch(`/v1/sessions/${id}`, { method: 'DELETE' })).status).toBe(204);
    expect(await c.waitClosed()).toBe(true);
    expect(await refused(v.dataPort)).toBe(true);
    expect(await refused(v.ctrlPort)).toBe(true);
  });

  it('an expired session closes its socket', async () => {
    const id = await newSession();
    const v = (await (await srv.fetch(`/v1/sessions/${id}/socket`, { method: 'POST' })).json()) as { dataPort: number };
    clock += 120_000;
    await srv.ctx.sessions.sweep();
    expect(await refused(v.dataPort)).toBe(true);
    expect((await srv.fetch(`/v1/sessions/${id}`)).status).toBe(404);
  });

  it('no free port pair in the range: 503 socket-ports-exhausted', async () => {
    const tiny = await startServer({ socketPortRange: [base + 50, base + 51] });
    try {
      const mk = async () => {
        const { data } = await tiny.client.POST('/v1/sessions', { body: { family: '1.2' } });
        return tiny.fetch(`/v1/sessions/${data!.id}/socket`, { method: 'POST' });
      };
      const first = await mk();
      if (first.status === 201) {
        const second = await mk();
        expect(second.status).toBe(503);
        expect(((await second.json()) as { type: string }).type).toBe('urn:tpm-measure:problem:socket-ports-exhausted');
      } else {
        // Another test file holds one of the two ports right now: the same answer.
        expect(first.status).toBe(503);
      }
      expect(tiny.violations).toEqual([]);
    } finally {
      await tiny.close();
    }
  });
});

describe('socket and HTTP share the session', () => {
  it('a socket SHA-1 thread is never cut by concurrent HTTP measurements; both correct; the log replays', async () => {
    const id = await newSession();
    const v = (await (await srv.fetch(`/v1/sessions/${id}/socket`, { method: 'POST' })).json()) as { dataPort: number };
    // The launch first, so PCR 17/18 start from the values the log assumes.
    expect((await srv.fetch(`/v1/sessions/${id}/drtm`, { method: 'POST', body: blob(500, 10), headers: { 'content-type': 'application/octet-stream' } })).status).toBe(200);
    const c = await RawClient.connect(v.dataPort);
    const ctrl = await RawClient.connect(v.dataPort + 1);
    const data = blob(64 * 40, 11);
    const tail = blob(17, 12);

    const measurements = [0, 1, 2, 3, 4, 5].map((i) =>
      srv.fetch(`/v1/sessions/${id}/measurements?pcr=${i % 2 ? 18 : 17}&locality=2${i % 3 === 0 ? '&hashing=tpm' : ''}`, {
        method: 'POST',
        body: blob(3000 + i, 20 + i),
        headers: { 'content-type': 'application/octet-stream' },
      }),
    );
    const start = await c.command(tpm12(0xa0));
    expect(start.readUInt32BE(6)).toBe(0);
    for (let off = 0; off < data.length; off += 64) {
      const r = await c.command(tpm12(0xa1, Buffer.concat([be32(64), data.subarray(off, off + 64)])));
      expect(r.readUInt32BE(6), `SHA1Update at ${off}`).toBe(0);
      if (off % 640 === 320) {
        // A control request in between (tpm2-tss sends SET_LOCALITY before each command) runs
        // inside the thread's turn and does not end it.
        ctrl.write(ctrlReq(5, Uint8Array.of(0)));
        expect((await ctrl.bytes(4))?.readUInt32BE(0)).toBe(0);
      }
      await new Promise((res) => setImmediate(res));
    }
    const done = await c.command(tpm12(0xa3, Buffer.concat([be32(16), be32(tail.length), tail])));
    expect(done.readUInt32BE(6)).toBe(0);
    c.close();
    ctrl.close();
    for (const m of await Promise.all(measurements)) expect(m.status).toBe(201);

    const digest = createHash('sha1').update(data).update(tail).digest();
    const pcr16 = createHash('sha1').update(Buffer.alloc(20)).update(digest).digest('hex');
    const banks = ((await (await srv.fetch(`/v1/sessions/${id}/pcrs`)).json()) as { banks: { sha1: string[] } }).banks;
    expect(banks.sha1[16]).toBe(pcr16);

    const log = Buffer.from(await (await srv.fetch(`/v1/sessions/${id}/event-log`, { headers: { accept: 'application/octet-stream' } })).arrayBuffer());
    const replay = (await (await srv.fetch('/v1/event-logs/replay', { method: 'POST', body: log, headers: { 'content-type': 'application/octet-stream' } })).json()) as { banks: { sha1: (string | null)[] }; eventCount: number };
    expect(replay.eventCount).toBe(7);
    expect(replay.banks.sha1[17]).toBe(banks.sha1[17]);
    expect(replay.banks.sha1[18]).toBe(banks.sha1[18]);
    const view = (await (await srv.fetch(`/v1/sessions/${id}`)).json()) as { measurements: number; extendsOutsideLog: number };
    expect(view.measurements).toBe(6);
    expect(view.extendsOutsideLog).toBe(1);
    expect(srv.violations).toEqual([]);
  });

  it('a client silent inside its SHA-1 thread holds the session for SOCKET_SEQUENCE_HOLD_MS at most; HTTP then runs and ends the thread', async () => {
    const id = await newSession();
    const v = (await (await srv.fetch(`/v1/sessions/${id}/socket`, { method: 'POST' })).json()) as { dataPort: number };
    const c = await RawClient.connect(v.dataPort);
    expect((await c.command(tpm12(0xa0))).readUInt32BE(6)).toBe(0);
    // Held: this read waits for the hold to run out (2 s by default), then runs.
    expect((await srv.fetch(`/v1/sessions/${id}/pcrs`)).status).toBe(200);
    const m = await srv.fetch(`/v1/sessions/${id}/measurements?pcr=17&locality=2`, { method: 'POST', body: blob(100, 3), headers: { 'content-type': 'application/octet-stream' } });
    expect(m.status).toBe(201);
    // The TPM_Extend in between ended the thread, as on a real TPM: TPM_SHA_THREAD (0x1A).
    expect((await c.command(tpm12(0xa1, Buffer.concat([be32(64), blob(64, 4)])))).readUInt32BE(6)).toBe(0x1a);
    c.close();
  });

  it('a control client that leaves in the middle of a dynamic launch gives the session back at once', async () => {
    const held = await startServer({ socketPortRange: [base + 60, base + 99], socketHoldMs: 600_000 });
    try {
      const { data } = await held.client.POST('/v1/sessions', { body: { family: '1.2' } });
      const id = data!.id;
      const v = (await (await held.fetch(`/v1/sessions/${id}/socket`, { method: 'POST' })).json()) as { ctrlPort: number };
      const c = await RawClient.connect(v.ctrlPort);
      c.write(ctrlReq(6));
      expect((await c.bytes(4))?.readUInt32BE(0)).toBe(0);
      c.close();
      // With a 10-minute hold this would time the test out if leaving did not release the turn.
      expect((await held.fetch(`/v1/sessions/${id}/pcrs`)).status).toBe(200);
    } finally {
      await held.close();
    }
  });

  it('a TPM 2.0 dynamic launch over the control channel logs the HASH_START event; HTTP /commands extends count', async () => {
    const id = await newSession({ family: '2.0' });
    const v = (await (await srv.fetch(`/v1/sessions/${id}/socket`, { method: 'POST' })).json()) as { ctrlPort: number };
    const c = await RawClient.connect(v.ctrlPort);
    const ask = async (req: Buffer) => {
      c.write(req);
      return (await c.bytes(4))?.readUInt32BE(0);
    };
    const sinit = blob(5000, 13);
    expect(await ask(ctrlReq(6))).toBe(0);
    for (let off = 0; off < sinit.length; off += 4096) {
      const part = sinit.subarray(off, off + 4096);
      expect(await ask(ctrlReq(7, Buffer.concat([be32(part.length), part])))).toBe(0);
    }
    expect(await ask(ctrlReq(8))).toBe(0);
    c.close();
    // The same launch over HTTP on a fresh session gives the same PCR 17 and the same log.
    const ref = await newSession({ family: '2.0' });
    expect((await srv.fetch(`/v1/sessions/${ref}/drtm`, { method: 'POST', body: sinit, headers: { 'content-type': 'application/octet-stream' } })).status).toBe(200);
    const get = async (sid: string, path: string) => (await srv.fetch(`/v1/sessions/${sid}${path}`, { headers: { accept: 'application/json' } })).json();
    expect(await get(id, '/pcrs')).toEqual(await get(ref, '/pcrs'));
    expect(await get(id, '/event-log')).toEqual(await get(ref, '/event-log'));

    // TPM2_PCR_Extend(16) over HTTP /commands counts as an extend outside the log.
    const auth = Buffer.from('40000009' + '0000' + '00' + '0000', 'hex');
    const digests = Buffer.concat([be32(1), Buffer.from([0x00, 0x0b]), blob(32, 14)]);
    const body = Buffer.concat([be32(16), be32(auth.length), auth, digests]);
    const cmd = Buffer.concat([Buffer.from([0x80, 0x02]), be32(10 + body.length), be32(0x182), body]);
    const r = await srv.fetch(`/v1/sessions/${id}/commands`, { method: 'POST', body: cmd, headers: { 'content-type': 'application/octet-stream' } });
    expect(r.headers.get('x-tpm-return-code')).toBe('0x00000000');
    expect(((await get(id, '')) as { extendsOutsideLog: number }).extendsOutsideLog).toBe(1);
  });
});

describe('SOCKET_* configuration', () => {
  it('defaults: loopback, 20000-29999, 300 s idle', () => {
    const c = loadConfig({});
    expect(c.socketHost).toBe('127.0.0.1');
    expect(c.socketPortRange).toEqual([20000, 29999]);
    expect(c.socketIdleMs).toBe(300_000);
  });
  it('a non-loopback SOCKET_HOST is refused at start-up, naming the variable', () => {
    for (const host of ['0.0.0.0', '192.168.1.10', '::', 'example.com']) expect(() => loadConfig({ SOCKET_HOST: host })).toThrow(/SOCKET_HOST/);
    for (const host of ['127.0.0.1', '127.1.2.3', '::1', 'localhost']) expect(loadConfig({ SOCKET_HOST: host }).socketHost).toBe(host);
  });
  it('SOCKET_PORT_RANGE must be lo-hi within 1024-65535', () => {
    expect(loadConfig({ SOCKET_PORT_RANGE: '40000-40010' }).socketPortRange).toEqual([40000, 40010]);
    for (const bad of ['40000', '80-90', '5000-4000', '1024-70000', 'a-b']) expect(() => loadConfig({ SOCKET_PORT_RANGE: bad })).toThrow(/SOCKET_PORT_RANGE/);
  });
});
