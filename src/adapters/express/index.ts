import type { ServerResponse } from 'node:http';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { SessionRequest } from '../../client-id/types.js';
import { ConflictError } from '../../errors.js';
import type { SessionManager } from '../../session/manager.js';
import type { Session as TSession } from '../../session/session.js';
import { withCookiePath } from '../shared/cookie-path.js';
import { holdResponse } from '../shared/hold-response.js';
import { NodeSessionRequest } from '../shared/node-request.js';
import { restoreResponse, snapshotResponse } from '../shared/node-response.js';
import { type ExpressSessionState, states } from './state.js';

export { type RetryOptions, retryOnConflict } from './retry.js';

declare global {
  namespace Express {
    interface Request {
      /**
       * This request's session, set by tsession's `sessions()` middleware; nothing is
       * read until it is used. Named `tsession` rather than `session` so that its type
       * never clashes with `@types/express-session`, which claims `req.session`.
       */
      tsession: TSession;
    }
  }
}

/** Options of {@link sessions}. */
export interface ExpressSessionOptions {
  /**
   * Give the cookie the path the middleware is mounted under (`req.baseUrl`, e.g.
   * `/shop` for `app.use('/shop', router)`), so apps mounted side by side keep separate
   * sessions. `__Host-` cookies always keep `Path=/`.
   * @default false
   */
  pathFromMount?: boolean;
}

/**
 * Express middleware (Express 5, and 4's API) that puts the request's session on
 * `req.tsession`, commits it before the response's head goes out (so a redirect
 * followed at once by the next request sees the data; streamed and `Content-Length`
 * responses alike), and adds the id manager's headers (Set-Cookie).
 *
 * - `Secure` follows `req.secure`, so Express's own `trust proxy` setting decides
 *   whether `X-Forwarded-Proto: https` is believed.
 * - A response that goes out with a 5xx status (a handler that threw, through Express's
 *   error handler) aborts the session: nothing is written.
 * - Errors reach Express's error path through `next(err)` and carry `err.status`: a
 *   store that is down answers 503, a commit that lost a race answers 409 (opt a route
 *   into retrying with {@link retryOnConflict}).
 *
 * @param manager the app's {@link SessionManager}
 * @param options see {@link ExpressSessionOptions}
 * @example
 * ```ts
 * import { sessions } from 'tsession/express';
 *
 * app.set('trust proxy', 1);
 * app.use(sessions(manager));
 * app.post('/cart', async (req, res) => {
 *   const cart = await req.tsession.get('shop.cart');
 *   cart.set('items', [...(cart.get('items') ?? []), req.body.sku]);
 *   res.redirect('/cart');
 * });
 * ```
 */
export function sessions(manager: SessionManager, options: ExpressSessionOptions = {}): RequestHandler {
  const pathFromMount = options.pathFromMount ?? false;
  return function tsessionMiddleware(req: Request, res: Response, next: NextFunction): void {
    if (states.get(req)) {
      next();
      return;
    }
    const mountPath = pathFromMount ? req.baseUrl : '';
    const request = expressSessionRequest(req);
    const session = manager.open(request);
    const state: ExpressSessionState = {
      manager,
      request,
      session,
      snapshot: snapshotResponse(res),
      held: holdResponse(
        res,
        (status) => settle(state, status, mountPath),
        (error) => failed(state, res, next, error),
      ),
    };
    states.set(req, state);
    req.tsession = session;
    next();
  };
}

/** Commits when the response begins; aborts when it is a server error. */
function settle(state: ExpressSessionState, status: number, mountPath: string) {
  const session = state.session;
  if (!session.isOpen) return undefined;
  if (status >= 500) {
    session.abort();
    return undefined;
  }
  return session.commit().then(() => withCookiePath(session.responseHeaders, mountPath));
}

/** A failed commit: retry the route if it opted in, else hand the error to Express with the response reset. */
function failed(state: ExpressSessionState, res: ServerResponse, next: NextFunction, error: unknown): void {
  if (isConflict(error) && state.retry?.()) return;
  if (!res.headersSent) restoreResponse(res, state.snapshot);
  next(error);
}

function isConflict(error: unknown): boolean {
  return error instanceof ConflictError;
}

function expressSessionRequest(req: Request): SessionRequest {
  return new NodeSessionRequest(req.method, req.originalUrl, req.headers, () => req.secure);
}
