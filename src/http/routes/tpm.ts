/** Raw TPM access: commands at a locality, the dynamic launch, PCR values. */
import type { FastifyInstance } from 'fastify';
import { u32be } from '../../bytes/index.js';
import type { Locality } from '../../tpm/engine.js';
import { rcName } from '../../tpm/rc-name.js';
import { ownerOf, route, type HttpContext } from '../context.js';
import { readBody } from '../body.js';
import { pcrBanksView } from '../views.js';
import { dynamicLaunch } from '../../measure/launch.js';
import { isSuccessfulExtend } from '../../tpm/extends.js';

export function registerTpmRoutes(app: FastifyInstance, ctx: HttpContext): void {
  route(app, ctx, 'sendCommand', async (request, reply) => {
    const { id } = request.params as { id: string };
    const { locality = 0 } = request.query as { locality?: Locality };
    const session = await ctx.sessions.get(id, ownerOf(request));
    const cmd = await readBody(request, ctx.config.maxCommandBytes, 'the TPM command');
    const rsp = await session.transact(() => {
      const out = session.engine.execute(cmd, locality);
      if (isSuccessfulExtend(session.family, cmd, out)) session.extendsOutsideLog++;
      return out;
    });
    const rc = rsp.length >= 10 ? u32be(rsp, 6) : 0;
    return reply
      .type('application/octet-stream')
      .header('x-tpm-return-code', `0x${rc.toString(16).padStart(8, '0')}`)
      .send(Buffer.from(rsp.buffer, rsp.byteOffset, rsp.byteLength));
  });

  route(app, ctx, 'dynamicLaunch', async (request) => {
    const { id } = request.params as { id: string };
    const session = await ctx.sessions.get(id, ownerOf(request));
    const { logEvent = true } = request.query as { logEvent?: boolean };
    const data = await readBody(request, ctx.config.maxDrtmBytes, 'the dynamic-launch data');
    return session.transact(() => {
      const { rc, logged } = dynamicLaunch(session, data, logEvent);
      ctx.metrics.measuredBytes('drtm', data.length);
      return {
        logged,
        returnCode: rc,
        returnCodeName: rcName(session.family, rc),
        established: session.engine.established,
        ...pcrBanksView(session),
      };
    });
  });

  route(app, ctx, 'getPcrs', async (request) => {
    const { id } = request.params as { id: string };
    const session = await ctx.sessions.get(id, ownerOf(request));
    return session.read(() => pcrBanksView(session));
  });
}
