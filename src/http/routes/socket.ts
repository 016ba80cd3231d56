/** The session's swtpm socket (data + control channel): open, show, close. */
import type { FastifyInstance } from 'fastify';
import { DomainError } from '../../errors.js';
import { ownerOf, route, type HttpContext } from '../context.js';

function noSocket(id: string): DomainError {
  return new DomainError('not-found', `session ${JSON.stringify(id)} has no open socket; POST /v1/sessions/${id}/socket opens one`);
}

export function registerSocketRoutes(app: FastifyInstance, ctx: HttpContext): void {
  route(app, ctx, 'openSocket', async (request, reply) => {
    const { id } = request.params as { id: string };
    const session = await ctx.sessions.get(id, ownerOf(request));
    const { attachment, created } = await ctx.sockets.attach(session);
    return reply.code(created ? 201 : 200).header('location', `/v1/sessions/${id}/socket`).send(attachment.view());
  });

  route(app, ctx, 'getSocket', async (request) => {
    const { id } = request.params as { id: string };
    await ctx.sessions.get(id, ownerOf(request));
    const att = ctx.sockets.get(id);
    if (!att) throw noSocket(id);
    return att.view();
  });

  route(app, ctx, 'closeSocket', async (request, reply) => {
    const { id } = request.params as { id: string };
    await ctx.sessions.get(id, ownerOf(request));
    if (!(await ctx.sockets.detach(id))) throw noSocket(id);
    return reply.code(204).send();
  });
}
