import type { ServerResponse } from 'node:http';
import { SessionConfigError } from '../../errors.js';
import { restoreResponse, snapshotResponse } from '../shared/node-response.js';
import { type RetryOptions, retryAttempts } from '../shared/retry.js';
import type { SessionIncomingMessage, SessionRequestListener } from './index.js';
import { states } from './state.js';

export type { RetryOptions } from '../shared/retry.js';

/**
 * Lets a handler be run again when its commit loses a race (`ConflictError`), as Zope's
 * publisher retried conflicting requests: the response it began is dropped (status and
 * headers put back as they were) and it runs again with a fresh `req.session` that sees
 * the winner's data. Use it inside {@link withSessions}, for handlers that are safe to
 * run twice. When every attempt conflicts, the answer is 409.
 *
 * @throws SessionConfigError when `attempts` is not a positive integer
 * @example
 * ```ts
 * const counter = retryOnConflict(async (req, res) => {
 *   const data = await req.session.get('app.counter');
 *   data.set('n', (data.get('n') ?? 0) + 1);
 *   res.end(String(data.get('n')));
 * });
 * http.createServer(withSessions(manager, (req, res) => (req.url === '/counter' ? counter(req, res) : other(req, res))));
 * ```
 */
export function retryOnConflict(handler: SessionRequestListener, options: RetryOptions = {}): SessionRequestListener {
  const attempts = retryAttempts(options);
  return function retryingListener(req: SessionIncomingMessage, res: ServerResponse): unknown {
    const state = states.get(req);
    if (!state) throw new SessionConfigError('retryOnConflict: call it inside the handler given to `withSessions`');
    const before = snapshotResponse(res);
    let left = attempts - 1;
    state.retry = () => {
      if (left <= 0 || !state.held.restart()) return false;
      left--;
      restoreResponse(res, before);
      state.session = state.manager.open(state.request);
      req.session = state.session;
      run();
      return true;
    };
    const run = (): void => {
      try {
        const result: unknown = handler(req, res);
        if (result instanceof Promise) result.catch(state.handlerFailed);
      } catch (error) {
        state.handlerFailed(error);
      }
    };
    run();
    return undefined;
  };
}
