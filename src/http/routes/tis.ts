/** The TIS/PTP register interface of a session: MMIO batches and the decoded state. */
import type { FastifyInstance } from 'fastify';
import { decodeBase64Strict } from '../../bytes/index.js';
import { DomainError } from '../../errors.js';
import { MmioValidationError, runMmioBatch, validateMmioBatch } from '../../tis/index.js';
import { jsonLimit, ownerOf, route, type HttpContext } from '../context.js';
import { b64 } from '../views.js';

interface WireOp {
  op: string;
  data?: string;
  maxReads?: number;
  [k: string]: unknown;
}

/** A full batch: MMIO_BATCH_LIMITS.MAX_OPS small ops, or a few writeBytes of up to MAX_BYTES (base64). */
const MMIO_BODY_BYTES = 4 * 1024 * 1024;

export function registerTisRoutes(app: FastifyInstance, ctx: HttpContext): void {
  route(app, ctx, 'mmio', async (request) => {
    const { id } = request.params as { id: string };
    const session = await ctx.sessions.get(id, ownerOf(request));
    const { ops } = request.body as { ops: WireOp[] };
    const domainOps = ops.map((o) => {
      if (o.op === 'writeBytes') {
        const data = decodeBase64Strict(o.data ?? '');
        if (!data) throw new DomainError('invalid-request', 'writeBytes.data must be base64');
        return { ...o, data };
      }
      if (o.op === 'poll') return { ...o, maxReads: o.maxReads ?? 1000 };
      return o;
    });
    try {
      validateMmioBatch(domainOps);
    } catch (e) {
      if (e instanceof MmioValidationError) throw new DomainError('invalid-request', e.message, { opIndex: e.index, field: e.field });
      throw e;
    }
    return session.transact(() => {
      const results = runMmioBatch(session.tis, domainOps);
      return { results: results.map((r) => ('data' in r ? { data: b64(r.data) } : r)) };
    });
  }, { bodyLimit: jsonLimit(ctx, MMIO_BODY_BYTES) });

  route(app, ctx, 'getTisState', async (request) => {
    const { id } = request.params as { id: string };
    const session = await ctx.sessions.get(id, ownerOf(request));
    return session.read(() => session.tis.state());
  });
}
