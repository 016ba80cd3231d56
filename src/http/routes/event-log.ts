/** A session's own event log: TXT 1.2 container (TPM 1.2) or TCG crypto-agile log (TPM 2.0). */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Session } from '../../sessions/session.js';
import { toHex } from '../../bytes/index.js';
import { DomainError } from '../../errors.js';
import { TxtContainerLog } from '../../eventlog/txt-container.js';
import type { Tcg2Log } from '../../eventlog/tcg2.js';
import { negotiate, ownerOf, route, type HttpContext } from '../context.js';
import { algName, b64, digestsView, eventView } from '../views.js';

const OFFERED = ['application/octet-stream', 'application/json'] as const;

function notAcceptable(): DomainError {
  return new DomainError('not-acceptable', `this resource is available as ${OFFERED.join(' or ')}`);
}

function txtJson(log: TxtContainerLog): Record<string, unknown> {
  return {
    format: 'txt-container',
    size: log.size,
    header: {
      signature: 'TXT Event Container',
      containerVerMajor: 1,
      containerVerMinor: 0,
      pcrEventVerMajor: 1,
      pcrEventVerMinor: 0,
      containerSize: log.containerSize,
      pcrEventsOffset: 48,
      nextEventOffset: log.nextEventOffset,
    },
    events: log.events().map((e) => eventView(e, { sha1: toHex(e.digest) })),
  };
}

function tcg2Json(log: Tcg2Log): Record<string, unknown> {
  return {
    format: 'tcg2-agile',
    size: log.size,
    header: {
      signature: 'Spec ID Event03',
      platformClass: log.platformClass,
      specVersionMajor: 2,
      specVersionMinor: 0,
      specErrata: log.specErrata,
      uintnSize: log.uintnSize,
      digestSizes: log.banks.map((b) => ({ algorithmId: b.algorithmId, name: algName(b.algorithmId), digestSize: b.digestSize })),
      headerSize: log.headerSize,
      nextRecordOffset: log.nextRecordOffset,
    },
    events: log.events().map((e) => eventView(e, digestsView(e.digests))),
  };
}

/** The session named in the path and the representation the client accepts (406 if none). */
async function sessionAndType(request: FastifyRequest, ctx: HttpContext): Promise<{ session: Session; type: (typeof OFFERED)[number] }> {
  const { id } = request.params as { id: string };
  const session = await ctx.sessions.get(id, ownerOf(request));
  const type = negotiate(request, OFFERED) as (typeof OFFERED)[number] | undefined;
  if (!type) throw notAcceptable();
  return { session, type };
}

export function registerEventLogRoutes(app: FastifyInstance, ctx: HttpContext): void {
  route(app, ctx, 'getEventLog', async (request, reply) => {
    const { session, type } = await sessionAndType(request, ctx);
    return session.read(() => {
      const log = session.log;
      if (type === 'application/json') return reply.type(type).send(log instanceof TxtContainerLog ? txtJson(log) : tcg2Json(log));
      const bytes = log.bytes();
      return reply.type(type).send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    });
  });

  route(app, ctx, 'getEventLogPointer', async (request, reply) => {
    const { session, type } = await sessionAndType(request, ctx);
    return session.read(() => {
      const log = session.log;
      if (log instanceof TxtContainerLog) {
        throw new DomainError('invalid-request', 'EVENT_LOG_POINTER2_1 exists for TPM 2.0 sessions only; TPM 1.2 logs are found through the TXT container itself');
      }
      const p = log.pointer2_1();
      if (type === 'application/octet-stream') return reply.type(type).send(Buffer.from(p.bytes));
      return reply.type(type).send({
        physicalAddress: p.physicalAddress.toString(),
        allocatedEventContainerSize: p.allocatedEventContainerSize,
        firstRecordOffset: p.firstRecordOffset,
        nextRecordOffset: p.nextRecordOffset,
        bytes: b64(p.bytes),
      });
    });
  });
}
