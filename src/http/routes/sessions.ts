/** Session lifecycle routes: create, list, get, delete. */
import type { FastifyInstance } from 'fastify';
import { DomainError } from '../../errors.js';
import type { BankName } from '../../hash/index.js';
import type { TpmFamily } from '../../tpm/engine.js';
import type { Compat } from '../../sessions/session.js';
import { DEFAULT_PROFILE, PROFILES_FOR_FAMILY, type TisProfile } from '../../tis/index.js';
import { route, type HttpContext } from '../context.js';
import { sessionView } from '../views.js';

interface CreateBody {
  family?: TpmFamily;
  startup?: boolean;
  logSize?: number;
  compat?: Compat;
  banks?: BankName[];
  tisProfile?: TisProfile;
  tis?: { didVid?: number; rid?: number; burstMax?: number };
}

/** Default TPM 2.0 allocation: SHA-1 + SHA-256, what swtpm/libtpms and Xen's log header use (README). */
export const DEFAULT_TPM2_BANKS: BankName[] = ['sha1', 'sha256'];

export function registerSessionRoutes(app: FastifyInstance, ctx: HttpContext): void {
  route(app, ctx, 'createSession', async (request, reply) => {
    const body = (request.body ?? {}) as CreateBody;
    const family = body.family ?? '1.2';
    const logSize = body.logSize ?? ctx.config.defaultLogSize;
    if (logSize > ctx.config.maxLogSize) {
      throw new DomainError('invalid-option', `logSize ${logSize} is above the limit of ${ctx.config.maxLogSize} bytes (MAX_LOG_SIZE)`);
    }
    const profile = body.tisProfile ?? DEFAULT_PROFILE[family];
    if (!PROFILES_FOR_FAMILY[family].includes(profile)) {
      // Xen's family detection (facts §1.14) reads interfaceVersion: the profile must announce this family.
      throw new DomainError('invalid-option', `a TPM ${family} sits behind ${PROFILES_FOR_FAMILY[family].join(' or ')}; ${profile} would make drivers detect the other family (facts §1.5, §1.14)`);
    }
    if (family === '1.2' && body.banks && (body.banks.length !== 1 || body.banks[0] !== 'sha1')) {
      throw new DomainError('invalid-option', 'a TPM 1.2 has exactly one PCR bank, sha1; `banks` applies to TPM 2.0 sessions');
    }
    const session = ctx.sessions.create({
      family,
      startup: body.startup ?? true,
      logSize,
      compat: body.compat ?? 'xen',
      banks: family === '1.2' ? ['sha1'] : (body.banks ?? DEFAULT_TPM2_BANKS),
      tisProfile: profile,
      ...(body.tis ? { tis: body.tis } : {}),
    });
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
