/** Probes (liveness, readiness), metrics and the contract as served. */
import type { FastifyInstance } from 'fastify';
import { DomainError } from '../../errors.js';
import { route, type HttpContext } from '../context.js';

export function registerMetaRoutes(app: FastifyInstance, ctx: HttpContext): void {
  // Liveness: the process answers. Never shed, never rate limited, never behind a key.
  route(app, ctx, 'health', async () => ({ status: 'ok', sessions: await ctx.sessions.count().catch(() => 0) }), { limits: false });
  // Readiness: the session store answers (GET /readyz is 503 otherwise: stop sending traffic here).
  route(app, ctx, 'ready', async () => {
    if (!(await ctx.sessions.ready())) throw new DomainError('not-ready', 'the session store does not answer', {}, 5);
    return { status: 'ready' };
  }, { limits: false });
  route(app, ctx, 'getMetrics', async (_request, reply) => reply.type(ctx.metrics.contentType).send(await ctx.metrics.text()), { open: ctx.config.metricsOpen, limits: false });
  route(app, ctx, 'getOpenApi', async (_request, reply) => reply.type('application/yaml').send(ctx.contract.text), { limits: false });
}
