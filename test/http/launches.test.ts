/**
 * POST /v1/launches and POST /v1/sessions/{id}/launch through the HTTP API (every response checked
 * against openapi.yaml): inline and multipart bodies give the same prediction; a live session after
 * /launch shows exactly the prediction; variants and the three exports (checked field by field, and
 * policy-pcr against tpm2_createpolicy run on swtpm); the TCG2 log parses with tpm2_eventlog; every
 * 400/422 rule has a negative test; an aborted or refused launch leaves nothing behind.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../support/server.js';
import { SwtpmTcp } from '../support/swtpm-tcp.js';
import { requireTool } from '../support/tools.js';

let srv: TestServer;
beforeAll(async () => {
  srv = await startServer();
});
afterAll(async () => {
  await srv.close();
});

type Json = Record<string, unknown>;
const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
const sha = (alg: string, ...d: Uint8Array[]) => {
  const h = createHash(alg);
  for (const x of d) h.update(x);
  return h.digest();
};
function mbi(len: number, total = len): Buffer {
  const b = Buffer.alloc(len, 0x5a);
  if (len >= 4) b.writeUInt32LE(total, 0);
  return b;
}
function intelInfo(size: number, tag = 4, length = size): Buffer {
  const b = Buffer.alloc(length, 0x33);
  b.writeUInt32LE(tag, 0);
  b.writeUInt32LE(size, 4);
  return b;
}
const PARTS = {
  sinit: Buffer.from('a SINIT ACM'),
  mbi: mbi(200, 120),
  ii: intelInfo(560),
  osmle: Buffer.alloc(96, 7),
  k1: Buffer.from('kernel 6.6'),
  k2: Buffer.from('kernel 6.7'),
  initrd: Buffer.alloc(5000, 9),
};
function manifest(over: Json = {}): Json {
  return {
    family: '2.0',
    sinit: { part: 'sinit' },
    mbi: { part: 'mbi' },
    slrt: { intelInfo: { part: 'ii' } },
    entries: [
      { part: 'osmle', pcr: 18, evtInfo: 'Measured TXT OS-MLE data', entityType: 'txt-os2mle' },
      { part: 'k1', pcr: 17, evtInfo: 'Measured MB2 module', entityType: 'multiboot2-module' },
      { part: 'initrd', pcr: 17, evtInfo: 'Measured MB2 module' },
    ],
    ...over,
  };
}
/** The part names a manifest refers to (part, fromLog, as a name or a list). */
function partNames(m: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(m)) for (const x of m) partNames(x, out);
  else if (m && typeof m === 'object') {
    for (const [k, v] of Object.entries(m)) {
      if ((k === 'part' || k === 'fromLog') && typeof v === 'string') out.add(v);
      else if ((k === 'part' || k === 'fromLog') && Array.isArray(v)) for (const x of v) out.add(String(x));
      else partNames(v, out);
    }
  }
  return out;
}
/** The manifest with the parts it names inline (plus `extra`, named or not). */
function inline(m: Json, parts: Record<string, Buffer> = PARTS, extra: Record<string, Buffer> = {}): Json {
  const used = partNames(m);
  const p: Record<string, string> = {};
  for (const [k, v] of Object.entries(parts)) if (used.has(k)) p[k] = b64(v);
  for (const [k, v] of Object.entries(extra)) p[k] = b64(v);
  return { ...m, parts: p };
}
const usedParts = (m: Json): [string, Buffer][] => Object.entries(PARTS).filter(([k]) => partNames(m).has(k));
async function postJson(path: string, body: Json, accept = 'application/json'): Promise<{ status: number; body: Json; raw: Buffer; type: string }> {
  const res = await srv.fetch(path, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json', accept } });
  const raw = Buffer.from(await res.arrayBuffer());
  const type = res.headers.get('content-type') ?? '';
  return { status: res.status, raw, type, body: type.includes('json') ? (JSON.parse(raw.toString()) as Json) : {} };
}
async function postMultipart(path: string, m: unknown, parts: [string, Buffer][]): Promise<{ status: number; body: Json }> {
  const fd = new FormData();
  fd.append('manifest', new Blob([typeof m === 'string' ? m : JSON.stringify(m)], { type: 'application/json' }), 'launch.json');
  for (const [name, b] of parts) fd.append(name, new Blob([b]), name);
  const res = await srv.fetch(path, { method: 'POST', body: fd });
  return { status: res.status, body: (await res.json()) as Json };
}
async function newSession(body: Json = { family: '2.0' }): Promise<string> {
  const { data } = await srv.client.POST('/v1/sessions', { body: body as never });
  return data!.id;
}
async function sessionState(id: string): Promise<unknown> {
  const p = await srv.client.GET('/v1/sessions/{id}/pcrs', { params: { path: { id } } });
  const l = await srv.fetch(`/v1/sessions/${id}/event-log`, { headers: { accept: 'application/octet-stream' } });
  const s = await srv.client.GET('/v1/sessions/{id}', { params: { path: { id } } });
  return { pcrs: p.data, log: Buffer.from(await l.arrayBuffer()).toString('hex'), measurements: s.data?.measurements };
}
const sessionsAlive = async () => (await srv.client.GET('/healthz')).data!.sessions;

describe('POST /v1/launches: the prediction', () => {
  it('inline JSON and streamed multipart give the same prediction; octet-stream gives its log; no session is left', async () => {
    const before = await sessionsAlive();
    const a = await postJson('/v1/launches', inline(manifest()));
    expect(a.status).toBe(200);
    const m = manifest();
    const b = await postMultipart('/v1/launches', m, usedParts(m));
    expect(b.status).toBe(200);
    expect(b.body).toEqual(a.body);
    expect(a.body).toMatchObject({ family: '2.0', banks: ['sha1', 'sha256'], compat: 'xen' });
    const steps = a.body.steps as Json[];
    expect(steps.map((s) => s.step)).toEqual(['drtm', 'mbi', 'slrt', 'entry', 'entry', 'entry']);
    // The MBI step hashed total_size bytes, not the whole part.
    expect(steps[1]).toMatchObject({ pcr: 18, locality: 2, eventType: 0x502, size: 120, eventData: '' });
    expect((steps[1]!.digests as Json).sha256).toBe(sha('sha256', PARTS.mbi.subarray(0, 120)).toString('hex'));
    // INTEL_INFO: bytes 8–23 zeroed before hashing.
    const copy = Buffer.from(PARTS.ii);
    copy.fill(0, 8, 24);
    expect((steps[2]!.digests as Json).sha1).toBe(sha('sha1', copy).toString('hex'));
    expect(steps[4]).toMatchObject({ pcr: 17, eventData: b64(Buffer.from('Measured MB2 module')) });
    const log = await postJson('/v1/launches', inline(manifest()), 'application/octet-stream');
    expect(log.status).toBe(200);
    expect(log.type).toContain('application/octet-stream');
    expect(log.raw.toString('base64')).toBe((a.body.log as Json).base64);
    expect(await sessionsAlive()).toBe(before);
    expect(srv.violations).toEqual([]);
  });

  it('evtInfo: 32 bytes kept without NUL, 40 truncated to 32 with a note, cut at a NUL; unused entries skipped; no INTEL_INFO → step skipped', async () => {
    const m = manifest({
      family: '1.2',
      slrt: undefined,
      entries: [
        { part: 'k1', pcr: 17, evtInfo: 'x'.repeat(32) },
        { part: 'k1', pcr: 17, evtInfo: 'y'.repeat(40) },
        { part: 'k2', pcr: 18, evtInfo: 'ab\u0000cd' },
        { part: 'initrd', pcr: 17, entityType: 'unused' },
      ],
    });
    delete m.slrt;
    const r = await postJson('/v1/launches', inline(m));
    expect(r.status).toBe(200);
    const steps = r.body.steps as Json[];
    expect(steps[2]).toMatchObject({ step: 'slrt', skipped: true });
    expect(Buffer.from(steps[3]!.eventData as string, 'base64').toString()).toBe('x'.repeat(32));
    expect(Buffer.from(steps[4]!.eventData as string, 'base64').toString()).toBe('y'.repeat(32));
    expect((steps[4]!.notes as string[]).join()).toMatch(/truncated to 32/);
    expect(Buffer.from(steps[5]!.eventData as string, 'base64').toString()).toBe('ab');
    expect(steps[6]).toMatchObject({ step: 'entry', skipped: true });
    // The same kernel named twice: the same digest for both uses.
    expect(steps[3]!.digests).toEqual(steps[4]!.digests);
    expect(srv.violations).toEqual([]);
  });

  it('a 552-byte INTEL_INFO zeroes bytes 8–15 only', async () => {
    const ii = intelInfo(552);
    const r = await postJson('/v1/launches', inline(manifest({ family: '1.2' }), { ...PARTS, ii }));
    expect(r.status).toBe(200);
    const copy = Buffer.from(ii);
    copy.fill(0, 8, 16);
    expect(((r.body.steps as Json[])[2]!.digests as Json).sha1).toBe(sha('sha1', copy).toString('hex'));
  });

  it('sinit.events and sinit.fromLog: the same launch as the SINIT data it stands for', async () => {
    for (const family of ['1.2', '2.0'] as const) {
      const byPart = await postJson('/v1/launches', inline(manifest({ family })));
      const digests = family === '1.2' ? { sha1: sha('sha1', PARTS.sinit).toString('hex') } : { sha1: sha('sha1', PARTS.sinit).toString('hex'), sha256: sha('sha256', PARTS.sinit).toString('hex') };
      const byEvents = await postJson('/v1/launches', inline(manifest({ family, sinit: { events: [{ pcr: 17, type: 0x402, digests }] } })));
      expect(byEvents.status).toBe(200);
      expect(byEvents.body.pcrs).toEqual(byPart.body.pcrs);
      expect((byEvents.body.log as Json).base64).toBe((byPart.body.log as Json).base64);
      // The predicted log given back as a SINIT log: its records before the first 0x502 are SINIT's.
      const log = Buffer.from((byPart.body.log as Json).base64 as string, 'base64');
      const fromLog = await postJson('/v1/launches', inline(manifest({ family, sinit: { fromLog: 'sinit.log' } }), { ...PARTS, 'sinit.log': log }));
      expect(fromLog.status).toBe(200);
      expect(fromLog.body.pcrs).toEqual(byPart.body.pcrs);
      expect((fromLog.body.log as Json).base64).toBe((byPart.body.log as Json).base64);
    }
    expect(srv.violations).toEqual([]);
  });
});

describe('POST /v1/sessions/{id}/launch: a live session', () => {
  for (const family of ['1.2', '2.0'] as const) {
    it(`TPM ${family}: a fresh session after /launch shows exactly the prediction (PCRs, log)`, async () => {
      const m = manifest({ family });
      const predicted = await postJson('/v1/launches', inline(m));
      const id = await newSession({ family });
      const live = await postMultipart(`/v1/sessions/${id}/launch`, m, usedParts(m));
      expect(live.status).toBe(200);
      expect(live.body).toEqual(predicted.body);
      const p = await srv.client.GET('/v1/sessions/{id}/pcrs', { params: { path: { id } } });
      for (const [bank, v] of Object.entries(predicted.body.pcrs as Record<string, Record<string, string>>)) {
        expect(p.data!.banks[bank]![17]).toBe(v['17']);
        expect(p.data!.banks[bank]![18]).toBe(v['18']);
      }
      const l = await srv.fetch(`/v1/sessions/${id}/event-log`, { headers: { accept: 'application/octet-stream' } });
      expect(Buffer.from(await l.arrayBuffer()).toString('base64')).toBe((predicted.body.log as Json).base64);
      const s = await srv.client.GET('/v1/sessions/{id}', { params: { path: { id } } });
      expect(s.data!.measurements).toBe(5);
      expect(srv.violations).toEqual([]);
    });
  }

  it('all or nothing: a launch refused half way (INTEL_INFO layout, after the DRTM and MBI) changes nothing', async () => {
    const id = await newSession();
    await srv.fetch(`/v1/sessions/${id}/drtm`, { method: 'POST', body: Buffer.from('earlier'), headers: { 'content-type': 'application/octet-stream' } });
    const before = await sessionState(id);
    const r = await postJson(`/v1/sessions/${id}/launch`, inline(manifest(), { ...PARTS, ii: intelInfo(556) }));
    expect(r.status).toBe(422);
    expect(r.body.type).toBe('urn:tpm-measure:problem:launch-rule');
    expect(await sessionState(id)).toEqual(before);
    expect(srv.violations).toEqual([]);
  });

  it('variants are refused on a live session (422); options that differ from the session are 400', async () => {
    const id = await newSession();
    const before = await sessionState(id);
    const v = await postJson(`/v1/sessions/${id}/launch`, inline(manifest({ entries: [{ part: ['k1', 'k2'], pcr: 17 }] })));
    expect(v.status).toBe(422);
    expect(v.body.type).toBe('urn:tpm-measure:problem:launch-rule');
    const o = await postJson(`/v1/sessions/${id}/launch`, inline(manifest({ family: '1.2' })));
    expect(o.status).toBe(400);
    expect(o.body.detail).toMatch(/family/);
    const c = await postJson(`/v1/sessions/${id}/launch`, inline(manifest({ compat: 'strict' })));
    expect(c.status).toBe(400);
    expect(await sessionState(id)).toEqual(before);
    const none = await postJson('/v1/sessions/nope/launch', inline(manifest()));
    expect(none.status).toBe(404);
    expect(srv.violations).toEqual([]);
  });

  it('an aborted multipart upload leaves the live session unchanged and creates nothing', async () => {
    const id = await newSession();
    const before = await sessionState(id);
    const alive = await sessionsAlive();
    const boundary = 'xBOUNDARYx';
    const m = JSON.stringify(manifest());
    const head = Buffer.concat([
      Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="manifest"\r\n\r\n${m}\r\n`),
      ...(['sinit', 'mbi', 'ii'] as const).map((k) => Buffer.concat([Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="${k}"; filename="${k}"\r\ncontent-type: application/octet-stream\r\n\r\n`), PARTS[k], Buffer.from('\r\n')])),
      Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="initrd"; filename="initrd"\r\ncontent-type: application/octet-stream\r\n\r\n`),
    ]);
    for (const path of [`/v1/sessions/${id}/launch`, '/v1/launches']) {
      await new Promise<void>((resolve) => {
        const req = httpRequest(new URL(srv.baseUrl + path), { method: 'POST', headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': '900000' } });
        req.on('error', () => resolve());
        req.write(Buffer.concat([head, Buffer.alloc(60_000, 1)]), () => {
          setTimeout(() => {
            req.destroy();
            resolve();
          }, 100);
        });
      });
    }
    await new Promise((r) => setTimeout(r, 150));
    expect(await sessionState(id)).toEqual(before);
    expect(await sessionsAlive()).toBe(alive);
    // The session still takes a launch.
    expect((await postJson(`/v1/sessions/${id}/launch`, inline(manifest()))).status).toBe(200);
  });
});

describe('a prediction is what a session driven step by step through /drtm and /measurements shows', () => {
  const configs: Json[] = [
    { family: '1.2', compat: 'xen' },
    { family: '1.2', compat: 'xen', logSize: 200 },
    { family: '1.2', compat: 'strict', logSize: 200 },
    { family: '2.0', banks: ['sha1', 'sha256'], compat: 'strict', logSize: 420 },
    { family: '2.0', banks: ['sha1', 'sha256', 'sha384', 'sha512'], compat: 'xen' },
    { family: '2.0', banks: ['sha1', 'sha256', 'sha384', 'sha512'], compat: 'xen', logSize: 700 },
  ];
  for (const opts of configs) {
    it(JSON.stringify(opts), async () => {
      const m = manifest({ ...opts, entries: [{ part: 'osmle', pcr: 18, evtInfo: 'Measured TXT OS-MLE data' }, { part: 'k1', pcr: 17, evtInfo: 'z'.repeat(40) }, { part: 'initrd', pcr: 17 }] });
      const predicted = await postJson('/v1/launches', inline(m));
      expect(predicted.status).toBe(200);
      // The small logs fill up part way: the log rules (gap, strict stop, TPM 2.0 no-extend) are in play.
      if (opts.logSize) expect((predicted.body.steps as Json[]).some((st) => st.logged === false)).toBe(true);
      const id = await newSession(opts);
      const post = (q: string, body: Buffer) => srv.fetch(`/v1/sessions/${id}/${q}`, { method: 'POST', body, headers: { 'content-type': 'application/octet-stream' } });
      expect((await post('drtm', PARTS.sinit)).status).toBe(200);
      expect((await post('measurements?pcr=18&hashing=tpm', PARTS.mbi.subarray(0, 120))).status).toBe(201);
      const ii = Buffer.from(PARTS.ii);
      ii.fill(0, 8, 24);
      expect((await post('measurements?pcr=18', ii)).status).toBe(201);
      expect((await post(`measurements?pcr=18&eventData=${encodeURIComponent('Measured TXT OS-MLE data')}`, PARTS.osmle)).status).toBe(201);
      expect((await post(`measurements?pcr=17&eventData=${'z'.repeat(32)}`, PARTS.k1)).status).toBe(201);
      expect((await post('measurements?pcr=17', PARTS.initrd)).status).toBe(201);
      const p = await srv.client.GET('/v1/sessions/{id}/pcrs', { params: { path: { id } } });
      for (const [bank, v] of Object.entries(predicted.body.pcrs as Record<string, Record<string, string>>)) {
        expect(p.data!.banks[bank]![17], `${bank} 17`).toBe(v['17']);
        expect(p.data!.banks[bank]![18], `${bank} 18`).toBe(v['18']);
      }
      const l = await srv.fetch(`/v1/sessions/${id}/event-log`, { headers: { accept: 'application/octet-stream' } });
      expect(Buffer.from(await l.arrayBuffer()).toString('base64')).toBe((predicted.body.log as Json).base64);
      expect(srv.violations).toEqual([]);
    });
  }
});

describe('variants and exports', () => {
  const update = () => manifest({ entries: [{ part: ['k1', 'k2'], pcr: 17, evtInfo: 'Measured MB2 module' }, { part: 'initrd', pcr: 17 }] });

  it('one prediction per combination, each equal to the launch without variants', async () => {
    const r = await postJson('/v1/launches', inline(update()));
    expect(r.status).toBe(200);
    const variants = r.body.variants as Json[];
    expect(variants).toHaveLength(2);
    for (const [i, k] of ['k1', 'k2'].entries()) {
      const single = await postJson('/v1/launches', inline(manifest({ entries: [{ part: k, pcr: 17, evtInfo: 'Measured MB2 module' }, { part: 'initrd', pcr: 17 }] })));
      expect(variants[i]!.choice).toMatchObject({ 'entries[0].part': k });
      expect(variants[i]!.pcrs).toEqual(single.body.pcrs);
      expect(variants[i]!.steps).toEqual(single.body.steps);
    }
    const oct = await postJson('/v1/launches', inline(update()), 'application/octet-stream');
    expect(oct.status).toBe(406);
    expect(srv.violations).toEqual([]);
  });

  it('keylime: the mask and every allowed value, field by field', async () => {
    const all = await postJson('/v1/launches', inline(update()));
    const variants = all.body.variants as { pcrs: Record<string, Record<string, string>> }[];
    for (const bank of ['sha1', 'sha256']) {
      const r = await postJson(`/v1/launches?export=keylime&bank=${bank}`, inline(update()));
      expect(r.status).toBe(200);
      expect(Object.keys(r.body).sort()).toEqual(['17', '18', 'mask']);
      expect(r.body.mask).toBe('0x60000');
      expect(r.body['17']).toEqual(variants.map((v) => v.pcrs[bank]!['17']));
      // PCR 18 does not depend on the kernel: one value.
      expect(r.body['18']).toEqual([variants[0]!.pcrs[bank]!['18']]);
    }
    const only17 = await postJson('/v1/launches?export=keylime&pcrs=17', inline(update()));
    expect(only17.body).toMatchObject({ mask: '0x20000' });
    expect(only17.body['18']).toBeUndefined();
    // A TPM 1.2 launch defaults to its only bank.
    const v12 = await postJson('/v1/launches', inline({ ...update(), family: '1.2' }));
    const k12 = await postJson('/v1/launches?export=keylime', inline({ ...update(), family: '1.2' }));
    expect(k12.body['17']).toEqual((v12.body.variants as { pcrs: Record<string, Record<string, string>> }[]).map((v) => v.pcrs.sha1!['17']));
    expect((await postJson('/v1/launches?export=keylime&bank=sha384', inline(update()))).status).toBe(400);
    expect((await postJson('/v1/launches?export=keylime&pcrs=17,19', inline(update()))).status).toBe(400);
    expect(srv.violations).toEqual([]);
  });

  it('pcrlock: one record per extend of PCR 17/18 in order, every bank; folding them from zero gives the PCRs', async () => {
    const single = await postJson('/v1/launches', inline(manifest()));
    const doc = (await postJson('/v1/launches?export=pcrlock', inline(manifest()))).body as { records: { pcr: number; digests: { hashAlg: string; digest: string }[] }[] };
    const extended = (single.body.steps as Json[]).filter((s) => s.extended);
    expect(doc.records.map((r) => r.pcr)).toEqual(extended.map((s) => s.pcr));
    for (const [i, rec] of doc.records.entries()) {
      expect(rec.digests.map((d) => d.hashAlg)).toEqual(['sha1', 'sha256']);
      expect(Object.fromEntries(rec.digests.map((d) => [d.hashAlg, d.digest]))).toEqual(extended[i]!.extendedDigests);
    }
    for (const bank of ['sha1', 'sha256']) {
      const size = bank === 'sha1' ? 20 : 32;
      const pcr: Record<number, Buffer> = { 17: Buffer.alloc(size), 18: Buffer.alloc(size) };
      for (const rec of doc.records) pcr[rec.pcr] = sha(bank, pcr[rec.pcr]!, Buffer.from(rec.digests.find((d) => d.hashAlg === bank)!.digest, 'hex'));
      const want = (single.body.pcrs as Record<string, Record<string, string>>)[bank]!;
      expect(pcr[17]!.toString('hex')).toBe(want['17']);
      expect(pcr[18]!.toString('hex')).toBe(want['18']);
    }
    const arr = await postJson('/v1/launches?export=pcrlock', inline(update()));
    expect(Array.isArray(arr.body)).toBe(true);
    expect((arr.body as unknown as unknown[]).length).toBe(2);
    expect(srv.violations).toEqual([]);
  });
});

/** A swtpm on TCP for tpm2-tools (TPM2TOOLS_TCTI=swtpm:…); tpm2_createpolicy needs a TPM for its trial session. */
async function withSwtpmTcp<T>(fn: (tcti: string) => Promise<T>): Promise<T> {
  const peer = await SwtpmTcp.start({ tpm2: true, startupClear: true, ports: [40000, 50000] });
  try {
    return await fn(`swtpm:host=127.0.0.1,port=${peer.dataPort}`);
  } finally {
    await peer.stop();
  }
}

const haveTools = requireTool('swtpm', 'tpm2_createpolicy / tpm2_eventlog checks', 'swtpm') && requireTool('tpm2_createpolicy', 'tpm2_createpolicy checks', 'tpm2-tools') && requireTool('tpm2_eventlog', 'tpm2_eventlog checks', 'tpm2-tools');
const describeTools = haveTools ? describe : describe.skip;

describeTools('tpm2-tools: tpm2_createpolicy and tpm2_eventlog agree with the prediction', () => {
  it('policy-pcr equals tpm2_createpolicy --policy-pcr -l BANK:17,18 -f pcrs.bin for every variant, bank and selection', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'policy-'));
    let compared = 0;
    try {
      await withSwtpmTcp(async (tcti) => {
        for (const family of ['1.2', '2.0'] as const) {
          const m = manifest({ family, entries: [{ part: ['k1', 'k2'], pcr: 17 }, { part: ['osmle', 'initrd'], pcr: 18 }] });
          const all = await postJson('/v1/launches', inline(m));
          const variants = all.body.variants as { pcrs: Record<string, Record<string, string>> }[];
          const banks = family === '1.2' ? ['sha1'] : ['sha1', 'sha256'];
          for (const bank of banks) {
            for (const sel of [[17, 18], [17], [18]]) {
              const r = await postJson(`/v1/launches?export=policy-pcr&bank=${bank}&pcrs=${sel.join(',')}`, inline(m));
              expect(r.status).toBe(200);
              const policies = r.body.policies as { pcrDigest: string; policyDigest: string }[];
              expect(policies).toHaveLength(4);
              expect(r.body).toMatchObject({ bank, policyAlg: 'sha256', pcrs: sel });
              for (const [i, v] of variants.entries()) {
                const f = join(dir, 'pcrs.bin');
                writeFileSync(f, Buffer.concat(sel.map((p) => Buffer.from(v.pcrs[bank]![String(p)]!, 'hex'))));
                const out = join(dir, 'policy.dat');
                const t = spawnSync('tpm2_createpolicy', ['--policy-pcr', '-l', `${bank}:${sel.join(',')}`, '-f', f, '-L', out], { env: { ...process.env, TPM2TOOLS_TCTI: tcti }, encoding: 'utf8' });
                expect(t.status, t.stderr).toBe(0);
                // tpm2_createpolicy leaves its trial session loaded: flush it, or the TPM runs out of session slots.
                spawnSync('tpm2_flushcontext', ['-l'], { env: { ...process.env, TPM2TOOLS_TCTI: tcti } });
                expect(policies[i]!.policyDigest).toBe(readFileSync(out).toString('hex'));
                expect(policies[i]!.pcrDigest).toBe(sha('sha256', readFileSync(f)).toString('hex'));
                compared++;
              }
            }
          }
        }
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    console.log(`policy-pcr vs tpm2_createpolicy: ${compared} policy digests compared`);
    expect(compared).toBe(36);
    expect(srv.violations).toEqual([]);
  });

  for (const banks of [['sha1', 'sha256'], ['sha1', 'sha256', 'sha384', 'sha512']]) {
    it(`tpm2_eventlog parses the predicted TCG2 log (${banks.join('+')}) and prints the predicted PCR 17/18`, async () => {
      const r = await postJson('/v1/launches', inline(manifest({ banks, compat: 'strict' })));
      expect(r.status).toBe(200);
      const dir = mkdtempSync(join(tmpdir(), 'tpm2ev-'));
      try {
        const f = join(dir, 'log.bin');
        writeFileSync(f, Buffer.from((r.body.log as Json).base64 as string, 'base64'));
        const t = spawnSync('tpm2_eventlog', [f], { encoding: 'utf8' });
        expect(t.status, t.stderr).toBe(0);
        const at = t.stdout.lastIndexOf('\npcrs:');
        expect(at).toBeGreaterThan(0);
        let bank = '';
        const printed: Record<string, Record<string, string>> = {};
        for (const line of t.stdout.slice(at + 6).split('\n')) {
          const b = /^\s{2}(\w+):\s*$/.exec(line);
          if (b) printed[(bank = b[1]!)] = {};
          const v = /^\s{4}(\d+)\s*:\s*0x([0-9A-Fa-f]+)/.exec(line);
          if (v && bank) printed[bank]![v[1]!] = v[2]!.toLowerCase();
        }
        for (const b of banks) {
          const want = (r.body.pcrs as Record<string, Record<string, string>>)[b]!;
          expect(printed[b]?.['17'], `${b} 17`).toBe(want['17']);
          expect(printed[b]?.['18'], `${b} 18`).toBe(want['18']);
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});

describe('every rule has a negative test', () => {
  const cases: [string, Json, Record<string, Buffer> | undefined, number, RegExp, Record<string, Buffer>?][] = [
    ['sinit missing', { ...manifest(), sinit: undefined }, undefined, 400, /sinit/],
    ['two sinit forms', manifest({ sinit: { part: 'sinit', fromLog: 'sinit' } }), undefined, 400, /exactly one/],
    ['unknown member', manifest({ kernel: 'k1' }), undefined, 400, /kernel/],
    ['unknown entity type', manifest({ entries: [{ part: 'k1', pcr: 17, entityType: 'bzImage' }] }), undefined, 400, /entityType/],
    ['bad part name', manifest({ mbi: { part: '../etc/passwd' } }), undefined, 400, /mbi[./]part/],
    ['2.0 SINIT event without a sha256 digest', manifest({ sinit: { events: [{ pcr: 17, type: 0x402, digests: { sha1: '00'.repeat(20) } }] } }), undefined, 400, /sinit\.events\[0\]\.digests\.sha256/],
    ['SINIT digest of the wrong size', manifest({ family: '1.2', sinit: { events: [{ pcr: 17, type: 0x402, digests: { sha1: '00'.repeat(19) } }] } }), undefined, 400, /digests\.sha1/],
    ['a part the manifest does not use', manifest(), undefined, 400, /extra/, { extra: Buffer.from('x') }],
    ['a missing part', manifest(), { sinit: PARTS.sinit, mbi: PARTS.mbi, ii: PARTS.ii, osmle: PARTS.osmle, initrd: PARTS.initrd }, 400, /k1.*missing/],
    ['MBI total_size above the part', manifest(), { ...PARTS, mbi: mbi(100, 101) }, 422, /total_size 101/],
    ['MBI total_size below 8', manifest(), { ...PARTS, mbi: mbi(100, 7) }, 422, /below 8/],
    ['MBI shorter than its u32', manifest(), { ...PARTS, mbi: Buffer.from([1, 2]) }, 422, /mbi/],
    ['INTEL_INFO tag other than 4', manifest(), { ...PARTS, ii: intelInfo(560, 5) }, 422, /tag 5/],
    ['INTEL_INFO size 556', manifest(), { ...PARTS, ii: intelInfo(556) }, 422, /size 556/],
    ['INTEL_INFO size field and part length differ', manifest(), { ...PARTS, ii: intelInfo(560, 4, 552) }, 422, /560 bytes/],
    ['entry on PCR 19', manifest({ entries: [{ part: 'k1', pcr: 19 }] }), undefined, 422, /entries\[0\]\.pcr/],
    ['entityType slrt', manifest({ entries: [{ part: 'k1', pcr: 18, entityType: 'slrt' }] }), undefined, 422, /slrt/],
    ['entityType multiboot2-info', manifest({ entries: [{ part: 'k1', pcr: 18, entityType: 'multiboot2-info' }] }), undefined, 422, /multiboot2-info/],
    ['more than 256 entries', manifest({ entries: Array.from({ length: 257 }, () => ({ part: 'k1', pcr: 17 })) }), undefined, 422, /256/],
    ['more than 64 combinations', manifest({ entries: Array.from({ length: 7 }, () => ({ part: ['k1', 'k2'], pcr: 17 })) }), undefined, 422, /128 combinations/],
    ['first SINIT event not on PCR 17', manifest({ family: '1.2', sinit: { events: [{ pcr: 18, type: 0x40a, digests: { sha1: '11'.repeat(20) } }] } }), undefined, 422, /PCR 17/],
    ['SINIT event on PCR 21', manifest({ family: '1.2', sinit: { events: [{ pcr: 17, type: 0x402, digests: { sha1: '11'.repeat(20) } }, { pcr: 21, type: 0x40a, digests: { sha1: '11'.repeat(20) } }] } }), undefined, 422, /PCR 21/],
    ['no SINIT event extends', manifest({ family: '1.2', sinit: { events: [{ pcr: 17, type: 3, digests: { sha1: '00'.repeat(20) } }] } }), undefined, 422, /dynamic launch/],
    ['a SINIT log that is not a log', manifest({ sinit: { fromLog: 'bad.log' } }), { ...PARTS, 'bad.log': Buffer.from('TXT Event Container\0 garbage') }, 422, /sinit\.fromLog/],
  ];
  for (const [name, m, parts, status, detail, extra] of cases) {
    it(`${name} → ${status}`, async () => {
      const r = await postJson('/v1/launches', inline(m, parts, extra));
      expect(r.status, JSON.stringify(r.body)).toBe(status);
      expect(String(r.body.detail)).toMatch(detail);
      if (status === 422) expect(['urn:tpm-measure:problem:launch-rule', 'urn:tpm-measure:problem:event-log-invalid']).toContain(r.body.type);
      expect(srv.violations).toEqual([]);
    });
  }

  it('multipart: manifest not first, not JSON, a part twice, a field after the manifest → 400', async () => {
    const fd = new FormData();
    fd.append('mbi', new Blob([PARTS.mbi]), 'mbi');
    fd.append('manifest', JSON.stringify(manifest()));
    expect((await srv.fetch('/v1/launches', { method: 'POST', body: fd })).status).toBe(400);
    expect((await postMultipart('/v1/launches', '{not json', [])).status).toBe(400);
    const m = manifest({ slrt: undefined, entries: [] });
    delete m.slrt;
    const twice = await postMultipart('/v1/launches', m, [['sinit', PARTS.sinit], ['mbi', PARTS.mbi], ['mbi', PARTS.mbi]]);
    expect(twice.status).toBe(400);
    expect(String(twice.body.detail)).toMatch(/twice/);
    const fd2 = new FormData();
    fd2.append('manifest', JSON.stringify(m));
    fd2.append('note', 'hello');
    expect((await srv.fetch('/v1/launches', { method: 'POST', body: fd2 })).status).toBe(400);
    expect(srv.violations).toEqual([]);
  });

  it('limits: an MBI total_size above MAX_TPM_HASHING_BYTES and a part above MAX_UPLOAD_BYTES → 413', async () => {
    const small = await startServer({ maxTpmHashingBytes: 1000, maxUploadBytes: 20_000 });
    try {
      const post = (parts: Record<string, Buffer>) => small.fetch('/v1/launches', { method: 'POST', body: JSON.stringify(inline(manifest(), parts)), headers: { 'content-type': 'application/json' } });
      expect((await post(PARTS)).status).toBe(200);
      expect((await post({ ...PARTS, mbi: mbi(1500, 1001) })).status).toBe(413);
      // A long MBI part whose total_size is small is fine: only total_size bytes are kept.
      expect((await post({ ...PARTS, mbi: mbi(15_000, 900) })).status).toBe(200);
      expect((await post({ ...PARTS, initrd: Buffer.alloc(20_001) })).status).toBe(413);
      expect(small.violations).toEqual([]);
    } finally {
      await small.close();
    }
  });
});
