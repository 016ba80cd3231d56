/**
 * A 1 GiB upload works and is streamed: the service never holds the blob (RSS grows by far less
 * than the upload), and the digest it logs is the SHA-1 of every byte sent.
 */
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startServer, type TestServer } from '../support/server.js';

let srv: TestServer;
beforeAll(async () => {
  srv = await startServer();
});
afterAll(async () => srv.close());

const MiB = 1024 * 1024;
const TOTAL_MIB = 1024;

it('streams a 1 GiB measurement without holding it in memory', async () => {
  const { data } = await srv.client.POST('/v1/sessions', { body: { family: '1.2' } });
  const id = data!.id;
  const chunk = Buffer.alloc(MiB);
  for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 31 + 7) & 0xff;
  const expected = createHash('sha1');
  global.gc?.();
  const rssBefore = process.memoryUsage().rss;
  let rssPeak = rssBefore;
  const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 20);
  try {
    const result = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(`${srv.baseUrl}/v1/sessions/${id}/measurements?pcr=17`, {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(TOTAL_MIB * MiB) },
      });
      req.on('response', (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      let sent = 0;
      const pump = (): void => {
        while (sent < TOTAL_MIB) {
          chunk.writeUInt32LE(sent, 0); // every MiB differs
          expected.update(chunk);
          sent++;
          if (!req.write(chunk)) {
            req.once('drain', pump);
            return;
          }
        }
        req.end();
      };
      pump();
    });
    expect(result.status).toBe(201);
    const body = JSON.parse(result.body) as { size: number; digests: { sha1: string }; extended: boolean };
    expect(body.size).toBe(TOTAL_MIB * MiB);
    expect(body.digests.sha1).toBe(expected.digest('hex'));
    expect(body.extended).toBe(true);
  } finally {
    clearInterval(sampler);
  }
  const growthMiB = (rssPeak - rssBefore) / MiB;
  console.log(`1 GiB upload: peak RSS growth ${growthMiB.toFixed(1)} MiB`);
  // Client and server share this process; a buffered upload would add ≥ 1024 MiB.
  expect(growthMiB).toBeLessThan(256);
}, 180_000);
