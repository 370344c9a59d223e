import type { Context, Middleware, Next } from 'koa';
import { SessionConfigError } from '../../errors.js';
import { committedOrRetry, type RetryOptions, retryAttempts } from '../shared/retry.js';
import { restoreKoaResponse, snapshotKoaResponse, states } from './state.js';

export type { RetryOptions } from '../shared/retry.js';

/**
 * Lets a handler be run again when its commit loses a race (`ConflictError`), as Zope's
 * publisher retried conflicting requests: the wrapper commits right after the handler,
 * and on a conflict forgets the body, status and headers it set and runs it again with
 * a fresh `ctx.session` that sees the winner's data. Use it only for handlers that are
 * safe to run twice. When every attempt conflicts, Koa answers 409.
 *
 * @throws SessionConfigError when `attempts` is not a positive integer
 * @example
 * ```ts
 * router.post('/counter', retryOnConflict(async (ctx) => {
 *   const counter = await ctx.session.get('app.counter');
 *   counter.set('n', (counter.get('n') ?? 0) + 1);
 *   ctx.body = { n: counter.get('n') };
 * }));
 * ```
 */
export function retryOnConflict(handler: Middleware, options: RetryOptions = {}): Middleware {
  const attempts = retryAttempts(options);
  return async function retryingMiddleware(ctx: Context, next: Next): Promise<void> {
    const state = states.get(ctx);
    if (!state) throw new SessionConfigError("retryOnConflict: use tsession's `sessions(manager)` middleware first");
    const before = snapshotKoaResponse(ctx);
    for (let attempt = 1; ; attempt++) {
      await handler(ctx, next);
      if (await committedOrRetry(ctx.session, attempt, attempts)) return;
      restoreKoaResponse(ctx, before);
      ctx.session = state.manager.open(state.request);
    }
  };
}
