/** Placeholder replaced when the replay/verify core lands. */
import type { FastifyInstance } from 'fastify';
import type { HttpContext } from '../context.js';
export function registerEventLogsRoutes(_app: FastifyInstance, _ctx: HttpContext): void {}
