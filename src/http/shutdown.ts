/**
 * Graceful close: the server stops accepting connections (Fastify close: idle keep-alive
 * connections are closed, requests arriving on open ones get a 503 problem, responses still to
 * come carry `Connection: close`), requests in flight get `graceMs` to finish, then the
 * connections still open are destroyed: an upload cut there applies nothing (every change runs in a
 * session transaction, which rolls back when its body stream fails). The app's onClose hooks then
 * close the socket listeners and the store.
 */
import type { FastifyInstance } from 'fastify';

export async function closeGracefully(app: FastifyInstance, graceMs: number): Promise<void> {
  const grace = setTimeout(() => {
    app.log.warn({ graceMs }, 'shutdown grace period over; cutting the requests still in flight');
    app.server.closeAllConnections();
  }, graceMs);
  grace.unref();
  try {
    await app.close();
  } finally {
    clearTimeout(grace);
  }
}
