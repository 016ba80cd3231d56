/**
 * Acceptance: a measured launch through the HTTP API (the README's curl walk-through) gives the
 * same PCR 17/18 values as swtpm fed the same data through its control channel (dynamic launch)
 * and raw commands (SHA1Start/SHA1Update/SHA1CompleteExtend for the MBI, TPM_Extend for modules).
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startServer, type TestServer } from '../support/server.js';
import { blob } from '../support/data.js';
import { Swtpm, describeWithSwtpm } from '../support/swtpm.js';

const be32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
};
const cmd = (ordinal: number, body: Buffer) => Buffer.concat([Buffer.from([0x00, 0xc1]), be32(10 + body.length), be32(ordinal), body]);


describeWithSwtpm('measured launch: service vs swtpm (issue acceptance)', () => {
  let srv: TestServer;
  let tpm: Swtpm;
  beforeAll(async () => {
    srv = await startServer();
    tpm = await Swtpm.start();
  });
  afterAll(async () => {
    await srv.close();
    await tpm.stop();
  });

  it('PCR 17/18 equal swtpm after DRTM + MBI (tpm hashing) + kernel/initrd (host hashing)', async () => {
    const sinit = blob(4096, 1);
    const mbi = blob(1234, 2);
    mbi.writeUInt32LE(mbi.length, 0);
    const kernel = blob(300_000, 3);
    const initrd = blob(123_457, 4);

    // The service.
    const { data: s } = await srv.client.POST('/v1/sessions', { body: { family: '1.2' } });
    const id = s!.id;
    const post = (path: string, body: Buffer) => srv.fetch(path, { method: 'POST', body, headers: { 'content-type': 'application/octet-stream' } });
    expect((await post(`/v1/sessions/${id}/drtm`, sinit)).status).toBe(200);
    expect((await post(`/v1/sessions/${id}/measurements?pcr=18&hashing=tpm`, mbi)).status).toBe(201);
    expect((await post(`/v1/sessions/${id}/measurements?pcr=17&eventData=Measured%20MB2%20module`, kernel)).status).toBe(201);
    expect((await post(`/v1/sessions/${id}/measurements?pcr=17&eventData=Measured%20MB2%20module`, initrd)).status).toBe(201);
    const { data: p } = await srv.client.GET('/v1/sessions/{id}/pcrs', { params: { path: { id } } });

    // swtpm: dynamic launch on the control channel, then the seed's command stream at locality 2.
    expect(await tpm.drtm(sinit)).toBe(0);
    expect(await tpm.setLocality(2)).toBe(0);
    const start = await tpm.send(cmd(0xa0, Buffer.alloc(0)));
    expect(Buffer.from(start).readUInt32BE(6)).toBe(0);
    const max = Math.min(1024, Buffer.from(start).readUInt32BE(10));
    let off = 0;
    while (mbi.length - off > 64) {
      const n = Math.min(max, (mbi.length - off) & ~63);
      const r = await tpm.send(cmd(0xa1, Buffer.concat([be32(n), mbi.subarray(off, off + n)])));
      expect(Buffer.from(r).readUInt32BE(6)).toBe(0);
      off += n;
    }
    const rest = mbi.subarray(off);
    const fin = await tpm.send(cmd(0xa3, Buffer.concat([be32(18), be32(rest.length), rest])));
    expect(Buffer.from(fin).readUInt32BE(6)).toBe(0);
    for (const m of [kernel, initrd]) {
      const d = createHash('sha1').update(m).digest();
      const r = await tpm.send(cmd(0x14, Buffer.concat([be32(17), d])));
      expect(Buffer.from(r).readUInt32BE(6)).toBe(0);
    }
    const read = async (i: number) => Buffer.from(await tpm.send(cmd(0x15, be32(i)))).subarray(10).toString('hex');

    const ours = { 17: p!.banks.sha1![17], 18: p!.banks.sha1![18] };
    const theirs = { 17: await read(17), 18: await read(18) };
    console.log(`measured launch: service PCR17=${ours[17]} PCR18=${ours[18]}; swtpm PCR17=${theirs[17]} PCR18=${theirs[18]}`);
    expect(ours).toEqual(theirs);
    expect(srv.violations).toEqual([]);
  });
});
