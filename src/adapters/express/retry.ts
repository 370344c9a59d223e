import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { SessionConfigError } from '../../errors.js';
import { restoreResponse, snapshotResponse } from '../shared/node-response.js';
import { type RetryOptions, retryAttempts } from '../shared/retry.js';
import { reopen, states } from './state.js';

export type { RetryOptions } from '../shared/retry.js';

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
  const attempts = retryAttempts(options);
  return function retryingHandler(req: Request, res: Response, next: NextFunction): void {
    const state = states.get(req);
    if (!state) {
      next(
        new SessionConfigError("retryOnConflict: mount tsession's `sessions(manager)` middleware before this route"),
      );
      return;
    }
    const before = snapshotResponse(res);
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
      restoreResponse(res, before);
      reopen(state, req);
      run();
      return true;
    };
    run();
  };
}
