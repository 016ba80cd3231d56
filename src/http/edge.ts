/**
 * Errors that happen before any route runs, answered as problem+json like every other error:
 * what Node's HTTP parser refuses (a header block too large → 431, a request that took too long →
 * 408, bytes that are not HTTP → 400), what the router refuses (a path parameter too long → 414,
 * a URL that does not decode → 400), and a method the path does not have (405 with Allow).
 */
import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { OpenApiContract } from './openapi.js';
import { problem, PROBLEM_MEDIA_TYPE, sendProblem, type ProblemDocument } from './problem.js';

/** The raw response for a client error, written straight to the socket (there is no request object). */
function rawProblem(doc: ProblemDocument): string {
  const body = JSON.stringify(doc);
  return `HTTP/1.1 ${doc.status} ${statusText(doc.status)}\r\nContent-Type: ${PROBLEM_MEDIA_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}

function statusText(status: number): string {
  return { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' }[status] ?? 'Error';
}

/** Node's `clientError`: answer with a problem document, then close the connection. */
export function clientErrorHandler(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  let doc: ProblemDocument;
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    doc = problem('request-timeout', 'the request did not arrive within REQUEST_TIMEOUT_SECONDS');
  } else if (err.code === 'HPE_HEADER_OVERFLOW') {
    doc = problem('header-too-large', 'the request header block is larger than the server accepts');
  } else {
    doc = problem('invalid-request', 'the request is not valid HTTP/1.1');
  }
  if (socket.writable) socket.write(rawProblem(doc));
  socket.destroy();
}

/** Fastify's router errors (FST_ERR_BAD_URL, FST_ERR_MAX_PARAM_LENGTH, …). No echo of the URL. */
export function frameworkErrorHandler(err: Error & { code?: string; statusCode?: number }, _request: FastifyRequest, reply: FastifyReply): void {
  if (err.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    sendProblem(reply, problem('uri-too-long', 'a path segment is longer than any identifier this API uses'));
    return;
  }
  sendProblem(reply, problem('invalid-request', err.code === 'FST_ERR_BAD_URL' ? 'the URL is not valid percent-encoded UTF-8' : 'the request cannot be routed'));
}

/** The methods the contract defines for a concrete path (HEAD comes with GET). */
export function methodsFor(contract: OpenApiContract): (path: string) => string[] {
  const routes = [...contract.operations.values()].map((op) => ({
    method: op.method,
    re: new RegExp('^' + op.url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:[A-Za-z0-9_]+/g, '[^/]+') + '$'),
  }));
  return (path) => {
    const methods = new Set<string>();
    for (const r of routes) {
      if (!r.re.test(path)) continue;
      methods.add(r.method);
      if (r.method === 'GET') methods.add('HEAD');
    }
    return [...methods];
  };
}

/**
 * Requests whose client stops sending: a connection idle for IDLE_TIMEOUT_SECONDS, or a request
 * still incomplete after REQUEST_TIMEOUT_SECONDS (Node's own requestTimeout stops watching once the
 * headers are in), gets a 408 problem — when no response has started — and is closed. Whatever
 * the request was doing is aborted with it (uploads apply nothing).
 */
export function installTimeouts(app: FastifyInstance, idleTimeoutMs: number, requestTimeoutMs: number): void {
  const inflight = new WeakMap<Socket, FastifyReply>();
  // Connections that finished a response and wait, idle, for the next request: closed silently.
  const served = new WeakSet<Socket>();
  const cut = (socket: Socket, detail: string): void => {
    const reply = inflight.get(socket);
    const answer = reply ? !reply.raw.headersSent : !served.has(socket);
    if (answer && socket.writable) socket.write(rawProblem(problem('request-timeout', detail)));
    socket.destroy();
  };
  app.server.setTimeout(idleTimeoutMs, (socket: Socket) => cut(socket, `no bytes moved on the connection for ${idleTimeoutMs / 1000} s (IDLE_TIMEOUT_SECONDS)`));
  app.addHook('onRequest', async (request, reply) => {
    const socket = request.raw.socket;
    inflight.set(socket, reply);
    served.delete(socket);
    // A request that already arrived whole (most small ones: the parser read the body with the headers) needs no timer.
    if (requestTimeoutMs > 0 && !request.raw.complete) {
      const timer = setTimeout(() => {
        if (!request.raw.complete) cut(socket, `the request did not arrive whole within ${requestTimeoutMs / 1000} s (REQUEST_TIMEOUT_SECONDS)`);
      }, requestTimeoutMs);
      timer.unref();
      reply.raw.once('close', () => clearTimeout(timer));
    }
  });
  app.addHook('onResponse', async (request) => {
    inflight.delete(request.raw.socket);
    served.add(request.raw.socket);
  });
}
