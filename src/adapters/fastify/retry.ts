import type { FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify';
import { SessionConfigError } from '../../errors.js';
import { committedOrRetry, type RetryOptions, retryAttempts } from '../shared/retry.js';
import { reopen, states } from './state.js';

export type { RetryOptions } from '../shared/retry.js';

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
  const attempts = retryAttempts(options);
  return async function retryingHandler(this: unknown, request: FastifyRequest, reply: FastifyReply) {
    const state = states.get(request);
    if (!state) throw new SessionConfigError("retryOnConflict: register tsession's `sessions` plugin first");
    const status = reply.statusCode;
    const headers = reply.getHeaders();
    for (let attempt = 1; ; attempt++) {
      const result: unknown = await (handler as (this: unknown, ...args: unknown[]) => unknown).call(
        this,
        request,
        reply,
      );
      if (reply.sent || (await committedOrRetry(request.tsession, attempt, attempts))) return result;
      for (const name of Object.keys(reply.getHeaders())) reply.removeHeader(name);
      reply.headers(headers);
      reply.code(status);
      reopen(request, state);
    }
  };
}
