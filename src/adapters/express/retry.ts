import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { SessionConfigError } from '../../errors.js';
import { reopen, restore, snapshot, stateOf } from './state.js';

/** Options of {@link retryOnConflict}. */
export interface RetryOptions {
  /** Runs of the handler in all, the first included. @default 3 */
  attempts?: number;
}

/**
 * Lets a route be run again when its commit loses a race (`ConflictError`), as Zope's
 * publisher retried conflicting requests: the response it began is dropped, the
 * status and headers are put back as they were, and the handler runs with a fresh
 * session that sees the winner's data. Use it only for handlers that are safe to run
 * twice (their effects outside the session are idempotent). When every attempt
 * conflicts, Express's error path answers 409.
 *
 * The handler's own errors abort the session and go to `next(err)`.
 *
 * @param handler the route handler
 * @param options see {@link RetryOptions}
 * @throws SessionConfigError when `attempts` is not a positive integer
 * @example
 * ```ts
 * app.post('/counter', retryOnConflict(async (req, res) => {
 *   const counter = await req.tsession.get('app.counter');
 *   counter.set('n', (counter.get('n') ?? 0) + 1);
 *   res.json({ n: counter.get('n') });
 * }));
 * ```
 */
export function retryOnConflict(handler: RequestHandler, options: RetryOptions = {}): RequestHandler {
  const attempts = options.attempts ?? 3;
  if (!(Number.isInteger(attempts) && attempts >= 1)) {
    throw new SessionConfigError('retryOnConflict: `attempts` must be an integer ≥ 1 (the first run included)');
  }
  return function retryingHandler(req: Request, res: Response, next: NextFunction): void {
    const state = stateOf(req);
    if (!state) {
      next(
        new SessionConfigError("retryOnConflict: mount tsession's `sessions(manager)` middleware before this route"),
      );
      return;
    }
    const before = snapshot(res);
    let left = attempts - 1;
    const run = (): void => {
      const session = state.session;
      const fail = (error: unknown) => {
        if (session.isOpen) session.abort();
        next(error);
      };
      try {
        const result: unknown = handler(req, res, next);
        if (result instanceof Promise) result.catch(fail);
      } catch (error) {
        fail(error);
      }
    };
    state.retry = () => {
      if (left <= 0 || !state.held.restart()) return false;
      left--;
      restore(res, before);
      reopen(state, req);
      run();
      return true;
    };
    run();
  };
}
