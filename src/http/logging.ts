/**
 * pino options for the service's JSON log: each request is logged with its headers, and the
 * credentials among them never reach the log (pino `redact`: the value becomes "[Redacted]").
 */
import type { FastifyRequest, FastifyServerOptions } from 'fastify';

/** Header values replaced by "[Redacted]" wherever a request or its headers are logged. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["proxy-authorization"]',
  'req.headers.cookie',
  'headers.authorization',
  'headers["proxy-authorization"]',
  'headers.cookie',
];

export function loggerOptions(level: string): NonNullable<FastifyServerOptions['logger']> {
  return {
    level,
    redact: { paths: REDACTED_PATHS, censor: '[Redacted]' },
    serializers: {
      req(request: FastifyRequest) {
        return {
          method: request.method,
          url: request.url,
          remoteAddress: request.ip,
          // A copy: redaction must not touch the live request.
          headers: { ...request.headers },
        };
      },
    },
  };
}
