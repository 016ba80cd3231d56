/** Session lifecycle routes: create (fresh or from a snapshot), list, get, delete, snapshot, fork. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { DomainError } from '../../errors.js';
import { resolveSessionOptions, type SessionRequest } from '../../sessions/options.js';
import { exportSnapshot, importSnapshot } from '../../sessions/snapshot-doc.js';
import { jsonLimit, ownerOf, route, type HttpContext } from '../context.js';
import { sessionView } from '../views.js';

/** A session's options fit in a few hundred bytes; 16 KiB leaves room for whitespace. */
const SESSION_BODY_BYTES = 16 * 1024;

/** A snapshot holds the log, hex-encoded, plus the TPM state. */
function createBodyBytes(ctx: HttpContext): number {
  return 4 * ctx.config.maxLogSize + 1024 * 1024;
}

/** Only a restore (`from`) may be larger than a session's options need (413 before validation otherwise). */
function smallUnlessRestore(request: FastifyRequest): void {
  const body = request.body;
  if (typeof body === 'object' && body !== null && 'from' in body) return;
  const declared = Number(request.headers['content-length'] ?? NaN);
  const size = Number.isFinite(declared) ? declared : Buffer.byteLength(JSON.stringify(body ?? null));
  if (size > SESSION_BODY_BYTES) {
    throw new DomainError('payload-too-large', `a session's options are at most ${SESSION_BODY_BYTES} bytes (only a restore, {"from": snapshot}, may be larger)`, { limit: SESSION_BODY_BYTES });
  }
}

export function registerSessionRoutes(app: FastifyInstance, ctx: HttpContext): void {
  route(app, ctx, 'createSession', async (request, reply) => {
    const body = (request.body ?? {}) as SessionRequest & { from?: unknown };
    let session;
    if (body.from !== undefined) {
      // Checked whole before anything is created (422 snapshot-invalid); the options come from the snapshot.
      const { options, start } = importSnapshot(body.from, ctx.config);
      session = await ctx.sessions.create(options, ownerOf(request), start);
    } else {
      const { from: _ignored, ...req } = body;
      session = await ctx.sessions.create(resolveSessionOptions(req, ctx.config), ownerOf(request));
    }
    return reply.code(201).header('location', `/v1/sessions/${session.id}`).send(sessionView(session, ctx.sessions));
  }, { bodyLimit: jsonLimit(ctx, createBodyBytes(ctx)), beforeValidation: smallUnlessRestore });

  route(app, ctx, 'listSessions', async (request) => ({ sessions: (await ctx.sessions.list(ownerOf(request))).map((s) => sessionView(s, ctx.sessions)) }));

  route(app, ctx, 'getSession', async (request) => {
    const { id } = request.params as { id: string };
    return sessionView(await ctx.sessions.get(id, ownerOf(request)), ctx.sessions);
  });

  route(app, ctx, 'deleteSession', async (request, reply) => {
    const { id } = request.params as { id: string };
    const s = await ctx.sessions.get(id, ownerOf(request));
    // Wait for work already queued on the session, then delete it.
    await s.read(() => ctx.sessions.delete(id, ownerOf(request)));
    return reply.code(204).send();
  });

  route(app, ctx, 'getSessionSnapshot', async (request) => {
    const { id } = request.params as { id: string };
    const s = await ctx.sessions.get(id, ownerOf(request));
    return s.read(() => exportSnapshot(s, Date.now()));
  });

  route(app, ctx, 'forkSession', async (request, reply) => {
    const { id } = request.params as { id: string };
    const s = await ctx.sessions.get(id, ownerOf(request));
    const start = await s.read(() => ({ head: s.head(), events: s.logEvents(0) }));
    const fork = await ctx.sessions.create({ ...s.options, banks: [...s.options.banks] }, ownerOf(request), start);
    return reply.code(201).header('location', `/v1/sessions/${fork.id}`).send(sessionView(fork, ctx.sessions));
  });
}
