/** Session lifecycle routes: create (fresh or from a snapshot), list, get, delete, snapshot, fork. */
import type { FastifyInstance } from 'fastify';
import { resolveSessionOptions, type SessionRequest } from '../../sessions/options.js';
import { exportSnapshot, importSnapshot } from '../../sessions/snapshot-doc.js';
import { jsonLimit, route, type HttpContext } from '../context.js';
import { sessionView } from '../views.js';

/** A session's options fit in a few hundred bytes; a snapshot holds the log, hex-encoded, plus the TPM state. */
function createBodyBytes(ctx: HttpContext): number {
  return 4 * ctx.config.maxLogSize + 1024 * 1024;
}

export function registerSessionRoutes(app: FastifyInstance, ctx: HttpContext): void {
  route(app, ctx, 'createSession', async (request, reply) => {
    const body = (request.body ?? {}) as SessionRequest & { from?: unknown };
    let session;
    if (body.from !== undefined) {
      // Checked whole before anything is created (422 snapshot-invalid); the options come from the snapshot.
      const { options, start } = importSnapshot(body.from, ctx.config);
      session = await ctx.sessions.create(options, null, start);
    } else {
      const { from: _ignored, ...req } = body;
      session = await ctx.sessions.create(resolveSessionOptions(req, ctx.config));
    }
    return reply.code(201).header('location', `/v1/sessions/${session.id}`).send(sessionView(session, ctx.sessions));
  }, { bodyLimit: jsonLimit(ctx, createBodyBytes(ctx)) });

  route(app, ctx, 'listSessions', async () => ({ sessions: (await ctx.sessions.list()).map((s) => sessionView(s, ctx.sessions)) }));

  route(app, ctx, 'getSession', async (request) => {
    const { id } = request.params as { id: string };
    return sessionView(await ctx.sessions.get(id), ctx.sessions);
  });

  route(app, ctx, 'deleteSession', async (request, reply) => {
    const { id } = request.params as { id: string };
    const s = await ctx.sessions.get(id);
    // Wait for work already queued on the session, then delete it.
    await s.read(() => ctx.sessions.delete(id));
    return reply.code(204).send();
  });

  route(app, ctx, 'getSessionSnapshot', async (request) => {
    const { id } = request.params as { id: string };
    const s = await ctx.sessions.get(id);
    return s.read(() => exportSnapshot(s, Date.now()));
  });

  route(app, ctx, 'forkSession', async (request, reply) => {
    const { id } = request.params as { id: string };
    const s = await ctx.sessions.get(id);
    const start = await s.read(() => ({ head: s.head(), events: s.logEvents(0) }));
    const fork = await ctx.sessions.create({ ...s.options, banks: [...s.options.banks] }, s.owner, start);
    return reply.code(201).header('location', `/v1/sessions/${fork.id}`).send(sessionView(fork, ctx.sessions));
  });
}
