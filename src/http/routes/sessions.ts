/** Session lifecycle routes: create, list, get, delete. */
import type { FastifyInstance } from 'fastify';
import { resolveSessionOptions, type SessionRequest } from '../../sessions/options.js';
import { jsonLimit, ownerOf, route, type HttpContext } from '../context.js';
import { sessionView } from '../views.js';

/** A session's options fit in a few hundred bytes; 16 KiB leaves room for whitespace. */
const SESSION_BODY_BYTES = 16 * 1024;

export function registerSessionRoutes(app: FastifyInstance, ctx: HttpContext): void {
  route(app, ctx, 'createSession', async (request, reply) => {
    const body = (request.body ?? {}) as SessionRequest;
    const session = ctx.sessions.create(resolveSessionOptions(body, ctx.config), ownerOf(request));
    return reply.code(201).header('location', `/v1/sessions/${session.id}`).send(sessionView(session, ctx.sessions));
  }, { bodyLimit: jsonLimit(ctx, SESSION_BODY_BYTES) });

  route(app, ctx, 'listSessions', async (request) => ({ sessions: ctx.sessions.list(ownerOf(request)).map((s) => sessionView(s, ctx.sessions)) }));

  route(app, ctx, 'getSession', async (request) => {
    const { id } = request.params as { id: string };
    return sessionView(ctx.sessions.get(id, ownerOf(request)), ctx.sessions);
  });

  route(app, ctx, 'deleteSession', async (request, reply) => {
    const { id } = request.params as { id: string };
    const s = ctx.sessions.get(id, ownerOf(request));
    // Wait for work already queued on the session, then delete it.
    await s.read(() => ctx.sessions.delete(id, ownerOf(request)));
    return reply.code(204).send();
  });
}
