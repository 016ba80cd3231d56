/**
 * Graceful close (src/http/shutdown.ts, what server.ts runs on SIGTERM/SIGINT): a request in flight
 * that completes within the grace period is answered; uploads still incomplete when it ends are cut
 * and apply nothing (host- and TPM-hashing paths); idle keep-alive connections are closed (a
 * request that still arrives on one gets a 503 problem); close resolves.
 */
import { describe, expect, it } from 'vitest';
import { closeGracefully } from '../../src/http/shutdown.js';
import { startServer } from '../support/server.js';
import { openRaw, within } from '../hostile/support.js';

function head(path: string, length: number, extra = ''): string {
  return `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\nContent-Length: ${length}\r\n${extra}\r\n`;
}

describe('graceful close', () => {
  it('finishes what finishes within the grace period, cuts the rest with nothing applied', async () => {
    const srv = await startServer();
    const newSession = async (family: '1.2' | '2.0'): Promise<string> =>
      ((await (await srv.fetch('/v1/sessions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ family }) })).json()) as { id: string }).id;
    const done = await newSession('1.2');
    const cutHost = await newSession('2.0');
    const cutTpm = await newSession('1.2');
    const pcrs = async (id: string) => (await srv.ctx.sessions.get(id)).engine.pcrs();
    const before = { host: await pcrs(cutHost), tpm: await pcrs(cutTpm) };

    // Three uploads of 4096 bytes, each with half its body sent.
    const half = Buffer.alloc(2048, 1);
    const finishing = await openRaw(srv.baseUrl, Buffer.concat([Buffer.from(head(`/v1/sessions/${done}/measurements?pcr=17`, 4096)), half]));
    const stalledHost = await openRaw(srv.baseUrl, Buffer.concat([Buffer.from(head(`/v1/sessions/${cutHost}/measurements?pcr=17`, 4096)), half]));
    const stalledTpm = await openRaw(srv.baseUrl, Buffer.concat([Buffer.from(head(`/v1/sessions/${cutTpm}/measurements?pcr=18&hashing=tpm`, 4096)), half]));
    // Let the three requests reach their handlers (bounded wait for the TPM-hashing one to hold its turn).
    for (let i = 0; i < 200 && (await srv.ctx.sessions.get(cutTpm)).queue.size === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect((await srv.ctx.sessions.get(cutTpm)).queue.size).toBe(1);

    const closed = closeGracefully(srv.app, 1500);
    // In flight and completed within the grace period: answered.
    finishing.socket.write(half);
    const answered = await within(finishing.reply, 10_000);
    expect(answered).not.toBe('timeout');
    expect(answered && answered !== 'timeout' ? answered.status : 0).toBe(201);
    expect(answered && answered !== 'timeout' ? answered.headers.connection : '').toBe('close');
    // The stalled ones are cut when the grace period ends; close then resolves.
    expect(await within(closed, 20_000)).not.toBe('timeout');
    const cut = await within(stalledHost.reply, 5_000);
    const cut2 = await within(stalledTpm.reply, 5_000);
    expect(cut === undefined || (cut !== 'timeout' && cut.status >= 400)).toBe(true);
    expect(cut2 === undefined || (cut2 !== 'timeout' && cut2.status >= 400)).toBe(true);

    // Wait for the aborted handlers to roll back (bounded), then: nothing applied.
    for (let i = 0; i < 200 && ((await srv.ctx.sessions.get(cutHost)).queue.size > 0 || (await srv.ctx.sessions.get(cutTpm)).queue.size > 0); i++) await new Promise((r) => setTimeout(r, 10));
    for (const [id, pcrsBefore] of [[cutHost, before.host], [cutTpm, before.tpm]] as const) {
      const s = (await srv.ctx.sessions.get(id));
      expect(s.queue.size).toBe(0);
      expect(s.measurements).toBe(0);
      expect(s.engine.pcrs()).toEqual(pcrsBefore);
    }
    expect((await srv.ctx.sessions.get(done)).measurements).toBe(1);
    for (const c of [finishing, stalledHost, stalledTpm]) c.socket.destroy();
  });

  it('an idle keep-alive connection is closed when closing starts: a request sent on it never reaches a route (503 problem if answered at all)', async () => {
    const srv = await startServer();
    const { id } = (await (await srv.fetch('/v1/sessions', { method: 'POST' })).json()) as { id: string };
    // One upload keeps the server from closing until it ends.
    const stalled = await openRaw(srv.baseUrl, Buffer.concat([Buffer.from(head(`/v1/sessions/${id}/measurements`, 100)), Buffer.alloc(10)]));
    // Another connection that has served one request and stays open (keep-alive).
    const ka = await openRaw(srv.baseUrl, `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    const first = await within(ka.reply, 5_000);
    expect(first !== 'timeout' && first !== undefined && first.status).toBe(200);
    const closed = closeGracefully(srv.app, 2000);
    // Fastify closes idle keep-alive connections at close; if this one survived, it must answer 503.
    let text = '';
    const second = new Promise<string>((res) => {
      ka.socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
      ka.socket.on('close', () => res(text));
    });
    if (!ka.socket.destroyed) ka.socket.write(`GET /v1/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    const answer = await within(second, 10_000);
    expect(answer).not.toBe('timeout');
    if (typeof answer === 'string' && answer.includes('HTTP/1.1 ')) {
      const all = answer.split('HTTP/1.1 ').slice(1);
      const last = all[all.length - 1] ?? '';
      if (all.length > 1) {
        expect(last.startsWith('503')).toBe(true);
        expect(last).toMatch(/application\/problem\+json/);
        expect(last).toContain('urn:tpm-measure:problem:not-ready');
      }
    }
    stalled.socket.destroy();
    expect(await within(closed, 20_000)).not.toBe('timeout');
  });
});
