import type { Context, Handler } from 'hono';
import { SessionConfigError } from '../../errors.js';
import { committedOrRetry, type RetryOptions, retryAttempts } from '../shared/retry.js';
import { states } from './state.js';

export type { RetryOptions } from '../shared/retry.js';

/**
 * Lets a handler be run again when its commit loses a race (`ConflictError`), as Zope's
 * publisher retried conflicting requests: the wrapper commits right after the handler
 * returns its Response, and on a conflict drops that Response and runs the handler again
 * with a fresh `c.get('session')` that sees the winner's data. Use it only for handlers
 * that are safe to run twice. When every attempt conflicts, the error path answers 409.
 *
 * @throws SessionConfigError when `attempts` is not a positive integer
 * @example
 * ```ts
 * app.post('/counter', retryOnConflict(async (c) => {
 *   const counter = await c.get('session').get('app.counter');
 *   counter.set('n', (counter.get('n') ?? 0) + 1);
 *   return c.json({ n: counter.get('n') });
 * }));
 * ```
 */
export function retryOnConflict<H extends Handler>(handler: H, options: RetryOptions = {}): H {
  const attempts = retryAttempts(options);
  const retrying = async function retryingHandler(c: Context, next: () => Promise<void>) {
    const state = states.get(c);
    if (!state) throw new SessionConfigError("retryOnConflict: use tsession's `sessions(manager)` middleware first");
    for (let attempt = 1; ; attempt++) {
      const response = await handler(c, next);
      const session = c.get('session');
      if (await committedOrRetry(session, attempt, attempts)) return response;
      c.set('session', state.manager.open(state.request));
    }
  };
  return retrying as unknown as H;
}
