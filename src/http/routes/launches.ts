/**
 * POST /v1/launches (stateless prediction) and POST /v1/sessions/{id}/launch (the same launch on a
 * live session). Thin: every part is received first (multipart, streamed, or JSON with inline
 * base64), outside any session's turn; then src/launch applies the manifest — on private sessions
 * for a prediction, in one transaction for a live session (a 4xx changes nothing).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Multipart } from '@fastify/multipart';
import { DomainError } from '../../errors.js';
import type { BankName } from '../../hash/index.js';
import { combinations, decodeBase64, parseManifest, variantCount, type LaunchManifest } from '../../launch/manifest.js';
import { PartCollector, collectInline, type PartData } from '../../launch/parts.js';
import { checkLiveManifest, launchBanks, launchOptions, predictLaunch } from '../../launch/predict.js';
import { applyLaunch, type LaunchResult } from '../../launch/apply.js';
import { exportView, predictionView, resultView, type LaunchQuery } from '../../launch/views.js';
import { mediaType, negotiate, ownerOf, route, type HttpContext } from '../context.js';
import { limitedChunks, multipartError, safeParts } from '../body.js';

/** Largest manifest (JSON) in a multipart body. */
const MAX_MANIFEST_BYTES = 1024 * 1024;
const OFFERED = ['application/json', 'application/octet-stream'] as const;

function parseJsonText(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new DomainError('invalid-request', `manifest: not valid JSON: ${(e as Error).message}`, { field: 'manifest' });
  }
}

async function readAll(stream: AsyncIterable<Buffer>, limit: number, what: string): Promise<string> {
  const chunks: Uint8Array[] = [];
  for await (const c of limitedChunks(stream, limit, what)) chunks.push(c);
  return Buffer.concat(chunks).toString('utf8');
}

/** Receive the manifest and every part; `banksFor` validates the manifest against the target and names the banks to hash. */
async function receive(request: FastifyRequest, ctx: HttpContext, banksFor: (m: LaunchManifest) => BankName[]): Promise<{ manifest: LaunchManifest; parts: Map<string, PartData> }> {
  const limits = {
    maxUploadBytes: ctx.config.maxUploadBytes,
    maxTpmHashingBytes: ctx.config.maxTpmHashingBytes,
    maxDrtmBytes: ctx.config.maxDrtmBytes,
    maxEventLogBytes: ctx.config.maxEventLogBytes,
  };
  if (mediaType(request) !== 'multipart/form-data') {
    const body = (request.body ?? {}) as Record<string, unknown>;
    const { parts: inline, ...rest } = body;
    const manifest = parseManifest(rest);
    const collector = new PartCollector(manifest, banksFor(manifest), limits);
    const decoded: Record<string, Uint8Array> = {};
    for (const [name, v] of Object.entries((inline ?? {}) as Record<string, unknown>)) {
      if (typeof v !== 'string') throw new DomainError('invalid-request', `parts.${name} must be base64`, { field: `parts.${name}` });
      collector.check(name);
      decoded[name] = decodeBase64(v, `parts.${name}`);
    }
    return { manifest, parts: await collectInline(collector, decoded) };
  }
  let manifest: LaunchManifest | undefined;
  let collector: PartCollector | undefined;
  let it: AsyncIterable<Multipart>;
  try {
    it = request.parts({ limits: { fileSize: ctx.config.maxUploadBytes, files: 1 + 4096, fields: 1, fieldSize: MAX_MANIFEST_BYTES } });
  } catch (e) {
    throw multipartError(e, ctx.config.maxUploadBytes);
  }
  try {
    for await (const part of safeParts(it, ctx.config.maxUploadBytes)) {
      if (!manifest) {
        if (part.fieldname !== 'manifest') throw new DomainError('malformed-upload', `the first part must be "manifest" (application/json), got ${JSON.stringify(part.fieldname)}`);
        const text = part.type === 'field' ? String(part.value) : await readAll(part.file, MAX_MANIFEST_BYTES, 'the manifest');
        manifest = parseManifest(parseJsonText(text));
        collector = new PartCollector(manifest, banksFor(manifest), limits);
        continue;
      }
      if (part.type === 'field') throw new DomainError('malformed-upload', `form field ${part.fieldname} after the manifest: every other part is a file part named as the manifest names it`);
      const c = collector as PartCollector;
      c.check(part.fieldname);
      await c.add(part.fieldname, limitedChunks(part.file, ctx.config.maxUploadBytes, `part ${part.fieldname}`));
      if (part.file.truncated) throw new DomainError('payload-too-large', `part ${part.fieldname} is larger than the limit of ${ctx.config.maxUploadBytes} bytes`);
    }
  } catch (e) {
    collector?.abort();
    throw e;
  }
  if (!manifest || !collector) throw new DomainError('malformed-upload', 'the multipart body has no "manifest" part');
  return { manifest, parts: collector.finish() };
}

export function registerLaunchRoutes(app: FastifyInstance, ctx: HttpContext): void {
  route(app, ctx, 'predictLaunch', async (request, reply) => {
    const q = request.query as LaunchQuery;
    const type = negotiate(request, OFFERED);
    if (!type) throw new DomainError('not-acceptable', `this resource is available as ${OFFERED.join(' or ')}`);
    if (q.export && type !== 'application/json') throw new DomainError('not-acceptable', 'exports are JSON documents');
    let opts: ReturnType<typeof launchOptions> | undefined;
    const { manifest, parts } = await receive(request, ctx, (m) => {
      opts = launchOptions(m, ctx.config);
      if (type === 'application/octet-stream' && !q.export && variantCount(m) > 1) {
        throw new DomainError('not-acceptable', `application/octet-stream holds one log; the manifest has ${variantCount(m)} variant combinations`);
      }
      return launchBanks(opts);
    });
    const prediction = await predictLaunch(manifest, parts, opts as NonNullable<typeof opts>);
    if (q.export) return reply.type('application/json').send(exportView(prediction, q));
    if (type === 'application/octet-stream') {
      const b = (prediction.results[0] as LaunchResult).log.bytes;
      return reply.type(type).send(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
    }
    return reply.type('application/json').send(predictionView(prediction));
  });

  route(app, ctx, 'launchSession', async (request, reply) => {
    const { id } = request.params as { id: string };
    const session = await ctx.sessions.get(id, ownerOf(request));
    const { manifest, parts } = await receive(request, ctx, (m) => {
      checkLiveManifest(session, m, ctx.config);
      return launchBanks(session.options);
    });
    const choice = combinations(manifest)[0] as string[];
    const result = await session.transact(() => applyLaunch(session, manifest, parts, choice));
    let bytes = 0;
    for (const p of parts.values()) bytes += p.size;
    ctx.metrics.measuredBytes('launch', bytes);
    return reply.type('application/json').send({ family: session.family, banks: launchBanks(session.options), compat: session.options.compat, ...resultView(result, false) });
  });
}
