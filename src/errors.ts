/**
 * One registry of domain error kinds. Each kind has a stable id (never reused) that becomes the
 * RFC 9457 problem `type` URI, one HTTP status and a title. The HTTP layer maps `DomainError`
 * to application/problem+json in one place; a test checks this registry against openapi.yaml.
 */

export const PROBLEM_TYPE_BASE = 'urn:tpm-measure:problem:';

export const PROBLEMS = {
  'invalid-request': { status: 400, title: 'The request is not valid' },
  'invalid-option': { status: 400, title: 'An option is out of range' },
  'malformed-upload': { status: 400, title: 'The upload is malformed' },
  'upload-aborted': { status: 400, title: 'The upload was aborted before it completed' },
  'unauthorized': { status: 401, title: 'A valid API key is required' },
  'session-not-found': { status: 404, title: 'No such session' },
  'not-found': { status: 404, title: 'No such resource' },
  'method-not-allowed': { status: 405, title: 'Method not allowed' },
  'not-acceptable': { status: 406, title: 'None of the acceptable media types can be produced' },
  'request-timeout': { status: 408, title: 'The request did not arrive in time' },
  'locality-busy': { status: 409, title: 'Another locality holds the TPM' },
  'session-changed': { status: 409, title: 'The session changed while the request arrived' },
  'payload-too-large': { status: 413, title: 'The request body is too large' },
  'uri-too-long': { status: 414, title: 'The request URI is too long' },
  'unsupported-media-type': { status: 415, title: 'Unsupported media type' },
  'tpm-refused': { status: 422, title: 'The TPM refused the operation' },
  'event-log-invalid': { status: 422, title: 'The event log cannot be parsed' },
  'launch-rule': { status: 422, title: 'The launch breaks a Secure Launch rule' },
  'snapshot-invalid': { status: 422, title: 'The session snapshot is of another version, damaged or altered' },
  'too-many-sessions': { status: 429, title: 'Too many sessions' },
  'rate-limited': { status: 429, title: 'Too many requests' },
  'header-too-large': { status: 431, title: 'The request header fields are too large' },
  'internal': { status: 500, title: 'Internal error' },
  'memory-exhausted': { status: 503, title: 'The service is at its memory budget' },
  'socket-ports-exhausted': { status: 503, title: 'No free ports for a TPM socket' },
  'overloaded': { status: 503, title: 'The service is overloaded' },
  'not-ready': { status: 503, title: 'The service is not ready' },
  'store-unavailable': { status: 503, title: 'The session store is unavailable' },
} as const;

export type ProblemKind = keyof typeof PROBLEMS;

export function problemType(kind: ProblemKind): string {
  return PROBLEM_TYPE_BASE + kind;
}

export class DomainError extends Error {
  constructor(
    readonly kind: ProblemKind,
    detail: string,
    /** Extension members added to the problem document (RFC 9457 §3.2). */
    readonly extra: Record<string, unknown> = {},
    /** When the client may try again, in seconds (the HTTP layer sends it as Retry-After). */
    readonly retryAfterSeconds?: number,
  ) {
    super(detail);
    this.name = 'DomainError';
  }
  get status(): number {
    return PROBLEMS[this.kind].status;
  }
}
