/** Health and the contract as served. */
import type { FastifyInstance } from 'fastify';
import { route, type HttpContext } from '../context.js';

export function registerMetaRoutes(app: FastifyInstance, ctx: HttpContext): void {
  route(app, ctx, 'health', async () => ({ status: 'ok', sessions: await ctx.sessions.count().catch(() => 0) }));
  route(app, ctx, 'getOpenApi', async (_request, reply) => reply.type('application/yaml').send(ctx.contract.text));
}
