import type { Context, Middleware, Next } from 'koa';
import { ConflictError, SessionConfigError } from '../../errors.js';
import { restoreResponse, snapshotResponse, stateOf } from './state.js';

/** Options of {@link retryOnConflict}. */
export interface RetryOptions {
  /** Runs of the handler in all, the first included. @default 3 */
  attempts?: number;
}

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
  const attempts = options.attempts ?? 3;
  if (!(Number.isInteger(attempts) && attempts >= 1)) {
    throw new SessionConfigError('retryOnConflict: `attempts` must be an integer ≥ 1 (the first run included)');
  }
  return async function retryingMiddleware(ctx: Context, next: Next): Promise<void> {
    const state = stateOf(ctx);
    if (!state) throw new SessionConfigError("retryOnConflict: use tsession's `sessions(manager)` middleware first");
    const before = snapshotResponse(ctx);
    for (let attempt = 1; ; attempt++) {
      await handler(ctx, next);
      const session = ctx.session;
      if (!session.isOpen) return;
      try {
        await session.commit();
        return;
      } catch (error) {
        if (!(error instanceof ConflictError) || attempt >= attempts) throw error;
      }
      restoreResponse(ctx, before);
      ctx.session = state.manager.open(state.request);
    }
  };
}
