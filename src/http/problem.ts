/**
 * The one place that turns errors into RFC 9457 application/problem+json documents.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { DomainError, PROBLEMS, problemType, type ProblemKind } from '../errors.js';

export const PROBLEM_MEDIA_TYPE = 'application/problem+json';

export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  [extension: string]: unknown;
}

export function problem(kind: ProblemKind, detail: string, instance?: string, extra: Record<string, unknown> = {}): ProblemDocument {
  const p = PROBLEMS[kind];
  return { type: problemType(kind), title: p.title, status: p.status, detail, ...(instance ? { instance } : {}), ...extra };
}

/** Map a Fastify/plugin error code to our problem kind. */
function kindOfFastifyError(err: FastifyError): ProblemKind {
  const code = err.code ?? '';
  if (err.validation) return 'invalid-request';
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || err.statusCode === 415) return 'unsupported-media-type';
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE' || code === 'FST_REQ_FILE_TOO_LARGE' || code === 'FST_PARTS_LIMIT' || code === 'FST_FILES_LIMIT' || code === 'FST_FIELDS_LIMIT' || err.statusCode === 413) {
    return 'payload-too-large';
  }
  if (code.startsWith('FST_') && (err.statusCode ?? 500) < 500) {
    return code.includes('MULTIPART') || code.includes('PARTS') || code === 'FST_INVALID_MULTIPART_CONTENT_TYPE' ? 'malformed-upload' : 'invalid-request';
  }
  if ((err.statusCode ?? 500) === 400) return 'invalid-request';
  if ((err.statusCode ?? 500) === 404) return 'not-found';
  return 'internal';
}

function validationErrors(err: FastifyError): Array<{ in: string; path: string; message: string }> {
  const ctx = (err as FastifyError & { validationContext?: string }).validationContext ?? 'request';
  return (err.validation ?? []).map((v) => ({
    in: ctx,
    path: v.instancePath || '/',
    message: `${v.message ?? 'invalid'}${v.params && 'additionalProperty' in v.params ? `: ${String(v.params.additionalProperty)}` : ''}${v.params && 'allowedValues' in v.params ? ` (${(v.params.allowedValues as unknown[]).join(', ')})` : ''}`,
  }));
}

export function sendProblem(reply: FastifyReply, doc: ProblemDocument, headers: Record<string, string> = {}): FastifyReply {
  for (const [k, v] of Object.entries(headers)) reply.header(k, v);
  return reply.code(doc.status).type(PROBLEM_MEDIA_TYPE).send(doc);
}

export function errorToProblem(err: unknown, request: FastifyRequest): { doc: ProblemDocument; headers: Record<string, string> } {
  const instance = request.url;
  if (err instanceof DomainError && err.kind === 'internal') {
    // What went wrong inside is for the log, not for the client (no messages, paths or stacks).
    return { doc: problem('internal', 'an internal error occurred; it has been logged', instance), headers: {} };
  }
  if (err instanceof DomainError) {
    const headers: Record<string, string> = err.retryAfterSeconds === undefined ? {} : { 'retry-after': String(Math.max(1, Math.ceil(err.retryAfterSeconds))) };
    return { doc: problem(err.kind, err.message, instance, err.extra), headers };
  }
  const fe = err as FastifyError;
  const kind = kindOfFastifyError(fe);
  if (kind === 'internal') {
    return { doc: problem('internal', 'an internal error occurred; it has been logged', instance), headers: {} };
  }
  const extra = fe.validation ? { errors: validationErrors(fe) } : {};
  return { doc: problem(kind, fe.message, instance, extra), headers: {} };
}
