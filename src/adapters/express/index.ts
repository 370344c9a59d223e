import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { SessionRequest } from '../../client-id/types.js';
import { ConflictError, SessionConfigError } from '../../errors.js';
import type { SessionManager } from '../../session/manager.js';
import type { Session as TSession } from '../../session/session.js';
import { ResponseHold, type Settlement } from '../shared/hold-response.js';
import { NodeSessionRequest, type RequestAccess } from '../shared/node-request.js';
import { type ResponseSnapshot, restoreResponse, snapshotResponse } from '../shared/node-response.js';
import { type RetryOptions, retryAttempts } from '../shared/retry.js';
import { forwardSessionRejections } from './express4.js';

export type { RetryOptions } from '../shared/retry.js';

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
   * The path of the id's cookie: a path, or `'mount'` for the path the middleware is
   * mounted under (`req.baseUrl`, e.g. `/shop` for `app.use('/shop', router)`), so apps
   * mounted side by side keep separate sessions. `__Host-` cookies always keep `Path=/`.
   * @default the id manager's own `path`
   */
  cookiePath?: string | 'mount';
}

/**
 * Express middleware (Express 5, and 4's API) that puts the request's session on
 * `req.tsession`, commits it before the response's head goes out (so a redirect
 * followed at once by the next request sees the data; streamed and `Content-Length`
 * responses alike), and adds the id manager's headers (Set-Cookie).
 *
 * - `Secure` follows `req.secure`, so Express's own `trust proxy` setting decides
 *   whether `X-Forwarded-Proto: https` is believed.
 * - With the `form` conveyance, the id is read from `req.body` as a body parser
 *   (`express.urlencoded()`) left it, mounted before the routes that read the session.
 * - A response that goes out with a 5xx status (a handler that threw, through Express's
 *   error handler) aborts the session: nothing is written.
 * - Errors reach Express's error path through `next(err)` and carry `err.status`: a
 *   store that is down answers 503, a commit that lost a race answers 409 (opt a route
 *   into retrying with {@link retryOnConflict}).
 * - On Express 4, which ignores the promise an `async` handler returns, a session error
 *   it rejects with (`await req.tsession.get()` while the store is down) still reaches
 *   `next(err)` rather than crashing the process; no wrapper needed (see `express4.ts`).
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
  const cookiePath = options.cookiePath;
  return function tsessionMiddleware(req: Request, res: Response, next: NextFunction): void {
    if (holdOf(req)) {
      next();
      return;
    }
    forwardSessionRejections(req);
    exposeSession(req);
    const path = cookiePath === 'mount' ? req.baseUrl : cookiePath;
    new ExpressExchange(req, res, next, manager.open(expressSessionRequest(req, path)));
    next();
  };
}

/** The hold on this request's response: this adapter's (on `res.locals`), or another tsession adapter's (on the request). */
function holdOf(req: Request): ResponseHold | undefined {
  return ResponseHold.of(req.res?.locals) ?? ResponseHold.of(req);
}

/**
 * Defines `req.tsession` once on the prototype Express gave the request (the app's
 * `app.request`), reading the session of the request's hold: so tsession adds no
 * property to the request at all (see `ResponseHold`).
 */
function exposeSession(req: Request): void {
  const proto = Object.getPrototypeOf(req) as object;
  if (Object.hasOwn(proto, 'tsession')) return;
  Object.defineProperty(proto, 'tsession', {
    configurable: true,
    get(this: Request) {
      return holdOf(this)?.session;
    },
    set(this: Request, session: TSession) {
      const hold = holdOf(this);
      if (hold) hold.session = session;
      else Object.defineProperty(this, 'tsession', { value: session, writable: true, configurable: true });
    },
  });
}

/**
 * One request's exchange: the hold on its response (it commits when the response
 * begins, and aborts instead when that is a server error), the response as the route
 * found it, and the retry a `retryOnConflict` route installed.
 */
class ExpressExchange extends ResponseHold {
  readonly next: NextFunction;
  readonly snapshot: ResponseSnapshot;
  /** Set by `retryOnConflict`: runs the handler again; false when no attempt is left. */
  retry: (() => boolean) | undefined;

  constructor(req: Request, res: Response, next: NextFunction, session: TSession) {
    super(req, res, session, res.locals);
    this.next = next;
    this.snapshot = snapshotResponse(res);
  }

  protected settle(status: number): Settlement {
    const session = this.session;
    if (!session.isOpen) return undefined;
    if (status >= 500) {
      session.abort();
      return undefined;
    }
    return session.finish();
  }

  /** A failed commit: retry the route if it opted in, else hand the error to Express with the response reset. */
  protected fail(error: unknown): void {
    if (error instanceof ConflictError && this.retry?.()) return;
    if (!this.res.headersSent) restoreResponse(this.res, this.snapshot);
    this.next(error);
  }
}

/** What only Express knows of a request: `req.secure` (its `trust proxy`), and the body a parser such as `express.urlencoded()` left. */
const EXPRESS_ACCESS: RequestAccess<Request> = { secure: (req) => req.secure, body: (req) => req.body };

function expressSessionRequest(req: Request, cookiePath: string | undefined): SessionRequest {
  return new NodeSessionRequest(req.method, req.originalUrl, req.headers, req, EXPRESS_ACCESS, cookiePath);
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
  const attempts = retryAttempts(options);
  return function retryingHandler(req: Request, res: Response, next: NextFunction): void {
    const exchange = holdOf(req);
    if (!(exchange instanceof ExpressExchange)) {
      next(
        new SessionConfigError("retryOnConflict: mount tsession's `sessions(manager)` middleware before this route"),
      );
      return;
    }
    const before = snapshotResponse(res);
    let left = attempts - 1;
    const run = (): void => {
      const session = exchange.session;
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
    exchange.retry = () => {
      if (left <= 0 || !exchange.restart()) return false;
      left--;
      restoreResponse(res, before);
      exchange.session = exchange.session.reopen();
      run();
      return true;
    };
    run();
  };
}
