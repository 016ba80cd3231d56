/** Session lifecycle routes: create, list, get, delete. */
import type { FastifyInstance } from 'fastify';
import { resolveSessionOptions, type SessionOptionsInput } from '../../sessions/options.js';
import { route, type HttpContext } from '../context.js';
import { sessionView } from '../views.js';

export { DEFAULT_TPM2_BANKS } from '../../sessions/options.js';

export function registerSessionRoutes(app: FastifyInstance, ctx: HttpContext): void {
  route(app, ctx, 'createSession', async (request, reply) => {
    const session = ctx.sessions.create(resolveSessionOptions((request.body ?? {}) as SessionOptionsInput, ctx.config));
    return reply.code(201).header('location', `/v1/sessions/${session.id}`).send(sessionView(session, ctx.sessions));
  });

  route(app, ctx, 'listSessions', async () => ({ sessions: ctx.sessions.list().map((s) => sessionView(s, ctx.sessions)) }));

  route(app, ctx, 'getSession', async (request) => {
    const { id } = request.params as { id: string };
    return sessionView(ctx.sessions.get(id), ctx.sessions);
  });

  route(app, ctx, 'deleteSession', async (request, reply) => {
    const { id } = request.params as { id: string };
    const s = ctx.sessions.get(id);
    // Wait for work already queued on the session, then delete it.
    await s.read(() => ctx.sessions.delete(id));
    return reply.code(204).send();
  });
}
