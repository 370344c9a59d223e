import { SessionConfigError } from '../../errors.js';
import { committedOrRetry, type RetryOptions, retryAttempts } from '../shared/retry.js';
import type { SessionFetchHandler } from './index.js';
import { states } from './state.js';

export type { RetryOptions } from '../shared/retry.js';

/**
 * Lets a handler be run again when its commit loses a race (`ConflictError`), as Zope's
 * publisher retried conflicting requests: the wrapper commits right after the handler
 * returns its Response, and on a conflict drops that Response and runs the handler again
 * with a fresh session that sees the winner's data. Use it inside {@link withSessions},
 * for handlers that are safe to run twice. When every attempt conflicts, the answer is 409.
 *
 * @throws SessionConfigError when `attempts` is not a positive integer
 * @example
 * ```ts
 * const counter = retryOnConflict(async (request, session) => {
 *   const data = await session.get('app.counter');
 *   data.set('n', (data.get('n') ?? 0) + 1);
 *   return Response.json({ n: data.get('n') });
 * });
 * export default { fetch: withSessions(manager, (request, session) => counter(request, session)) };
 * ```
 */
export function retryOnConflict(handler: SessionFetchHandler, options: RetryOptions = {}): SessionFetchHandler {
  const attempts = retryAttempts(options);
  return async function retryingFetchHandler(request, session) {
    const state = states.get(request);
    if (!state) throw new SessionConfigError('retryOnConflict: call it inside the handler given to `withSessions`');
    state.session = session;
    for (let attempt = 1; ; attempt++) {
      const response = await handler(request, state.session);
      if (await committedOrRetry(state.session, attempt, attempts)) return response;
      state.session = state.manager.open(state.request);
    }
  };
}
