import type { Context, Handler, MiddlewareHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { isSessionError, SessionConfigError } from '../../errors.js';
import type { SessionManager } from '../../session/manager.js';
import { Session as TSession } from '../../session/session.js';
import { errorAnswer } from '../shared/errors.js';
import { committedOrRetry, type RetryOptions, retryAttempts } from '../shared/retry.js';
import { errorResponse, readForm, webSessionRequest } from '../shared/web-request.js';

export type { RetryOptions } from '../shared/retry.js';

declare module 'hono' {
  interface ContextVariableMap {
    /**
     * This request's session, opened by tsession's `sessions()` middleware; nothing is
     * read until it is used. Named `tsession` rather than `session` so that it never
     * clashes with hono-sessions, which sets `c.get('tsession')`.
     */
    tsession: TSession;
  }
}

/** Options of {@link sessions}. */
export interface HonoSessionOptions {
  /** Believe `X-Forwarded-Proto` (for the cookie's Secure default); set it behind a proxy you trust. @default false */
  trustProxy?: boolean;
  /**
   * The path of the id's cookie, e.g. the path the app is mounted under (`/shop` for
   * `app.route('/shop', shop)`), so apps mounted side by side keep separate sessions.
   * `__Host-` cookies keep `Path=/`.
   * @default the id manager's own `path`
   */
  cookiePath?: string;
}

/**
 * Hono middleware (Hono 4, on any runtime) that opens the request's session as
 * `c.get('tsession')`, runs the rest of the app, then commits before the response is
 * returned (so a redirect followed at once by the next request sees the data) and
 * appends the id manager's headers to `c.res`.
 *
 * - An error thrown downstream (`c.error`), or a 5xx response, aborts the session.
 * - A failed commit becomes an `HTTPException` with the error's status (409 for a
 *   conflict, 503 for a store that is down) and the error as its `cause`, for
 *   `app.onError`; opt a route into retrying with {@link retryOnConflict}. When a
 *   handler's tsession error reached the error handler and it answered 500, the answer
 *   becomes the error's own status.
 * - A streamed body must not write to the session from inside its stream callback:
 *   the session has committed once the handler returned its Response.
 *
 * @example
 * ```ts
 * import { sessions } from 'tsession/hono';
 *
 * const app = new Hono();
 * app.use(sessions(manager));
 * app.get('/visits', async (c) => {
 *   const visits = await c.get('tsession').get('app.visits');
 *   visits.set('n', (visits.get('n') ?? 0) + 1);
 *   return c.json({ n: visits.get('n') });
 * });
 * ```
 */
export function sessions(manager: SessionManager, options: HonoSessionOptions = {}): MiddlewareHandler {
  const trustProxy = options.trustProxy ?? false;
  const cookiePath = options.cookiePath;
  // The form conveyance reads a clone's body before the handler: paid only when configured.
  const readsForms = manager.clientIds.conveyances?.includes('form') === true;
  return async function tsessionMiddleware(c: Context, next: () => Promise<void>): Promise<void> {
    const form = readsForms ? await readForm(c.req.raw) : undefined;
    c.set('tsession', manager.open(webSessionRequest(c.req.raw, { trustProxy, cookiePath, form })));
    await next();
    const session = c.get('tsession');
    if (c.error) {
      if (session.isOpen) session.abort();
      answerSessionError(c, c.error);
      return;
    }
    if (session.isOpen) {
      if (c.res.status >= 500) session.abort();
      else {
        const pending = finished(session);
        if (pending) await pending;
      }
    }
    for (const [name, value] of session.responseHeaders) {
      c.header(name, value, { append: name.toLowerCase() === 'set-cookie' });
    }
  };
}

/** Commits, waiting only when the commit needs the store; a failure comes out as Hono's error path expects it. */
function finished(session: TSession): Promise<unknown> | undefined {
  try {
    const headers = session.finish();
    return headers instanceof Promise
      ? headers.catch((error: unknown) => Promise.reject(sessionError(error)))
      : undefined;
  } catch (error) {
    throw sessionError(error);
  }
}

/** A failed commit as Hono's error path expects it: an HTTPException with the status, the error as cause. */
function sessionError(error: unknown): HTTPException {
  const { status, message } = errorAnswer(error);
  return new HTTPException(status as ContentfulStatusCode, { message, cause: error });
}

/** A tsession error that the app's error handler answered with a bare 500 gets its own status. */
function answerSessionError(c: Context, error: Error): void {
  if (!isSessionError(error) || c.res.status !== 500 || errorAnswer(error).status === 500) return;
  c.res = undefined;
  c.res = errorResponse(error);
}

/**
 * Lets a handler be run again when its commit loses a race (`ConflictError`), as Zope's
 * publisher retried conflicting requests: the wrapper commits right after the handler
 * returns its Response, and on a conflict drops that Response and runs the handler again
 * with a fresh `c.get('tsession')` that sees the winner's data. Use it only for handlers
 * that are safe to run twice. When every attempt conflicts, the error path answers 409.
 *
 * @throws SessionConfigError when `attempts` is not a positive integer
 * @example
 * ```ts
 * app.post('/counter', retryOnConflict(async (c) => {
 *   const counter = await c.get('tsession').get('app.counter');
 *   counter.set('n', (counter.get('n') ?? 0) + 1);
 *   return c.json({ n: counter.get('n') });
 * }));
 * ```
 */
export function retryOnConflict<H extends Handler>(handler: H, options: RetryOptions = {}): H {
  const attempts = retryAttempts(options);
  const retrying = async function retryingHandler(c: Context, next: () => Promise<void>) {
    if (!(c.get('tsession') instanceof TSession)) {
      throw new SessionConfigError("retryOnConflict: use tsession's `sessions(manager)` middleware first");
    }
    for (let attempt = 1; ; attempt++) {
      const response = await handler(c, next);
      const session = c.get('tsession');
      if (await committedOrRetry(session, attempt, attempts)) return response;
      c.set('tsession', session.reopen());
    }
  };
  return retrying as unknown as H;
}
