import type { FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify';
import { ConflictError, SessionConfigError } from '../../errors.js';
import { reopen, stateOf } from './state.js';

/** Options of {@link retryOnConflict}. */
export interface RetryOptions {
  /** Runs of the handler in all, the first included. @default 3 */
  attempts?: number;
}

/**
 * Lets a route be run again when its commit loses a race (`ConflictError`), as Zope's
 * publisher retried conflicting requests: the wrapper commits right after the handler
 * returns its payload, and on a conflict puts back the reply's status and headers and
 * runs the handler with a fresh session that sees the winner's data. Use it only for
 * handlers that are safe to run twice. The handler must return its payload (a handler
 * that calls `reply.send()` itself is committed in `onSend` and cannot be retried).
 * When every attempt conflicts, Fastify's error handler answers 409.
 *
 * @throws SessionConfigError when `attempts` is not a positive integer
 * @example
 * ```ts
 * app.post('/counter', retryOnConflict(async (request) => {
 *   const counter = await request.tsession.get('app.counter');
 *   counter.set('n', (counter.get('n') ?? 0) + 1);
 *   return { n: counter.get('n') };
 * }));
 * ```
 */
export function retryOnConflict(handler: RouteHandlerMethod, options: RetryOptions = {}): RouteHandlerMethod {
  const attempts = options.attempts ?? 3;
  if (!(Number.isInteger(attempts) && attempts >= 1)) {
    throw new SessionConfigError('retryOnConflict: `attempts` must be an integer ≥ 1 (the first run included)');
  }
  return async function retryingHandler(this: unknown, request: FastifyRequest, reply: FastifyReply) {
    const state = stateOf(request);
    if (!state) throw new SessionConfigError("retryOnConflict: register tsession's `sessions` plugin first");
    const status = reply.statusCode;
    const headers = reply.getHeaders();
    for (let attempt = 1; ; attempt++) {
      const result: unknown = await (handler as (this: unknown, ...args: unknown[]) => unknown).call(
        this,
        request,
        reply,
      );
      const session = request.tsession;
      if (reply.sent || !session.isOpen) return result;
      try {
        await session.commit();
        return result;
      } catch (error) {
        if (!(error instanceof ConflictError) || attempt >= attempts) throw error;
      }
      for (const name of Object.keys(reply.getHeaders())) reply.removeHeader(name);
      reply.headers(headers);
      reply.code(status);
      reopen(request, state);
    }
  };
}
