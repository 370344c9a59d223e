import type { Context, MiddlewareHandler } from 'hono';
import { isSessionError } from '../../errors.js';
import type { SessionManager } from '../../session/manager.js';
import type { Session as TSession } from '../../session/session.js';
import { withCookiePath } from '../shared/cookie-path.js';
import { errorAnswer } from '../shared/errors.js';
import { errorResponse, webSessionRequest } from '../shared/web-request.js';
import { sessionError, states } from './state.js';

export { type RetryOptions, retryOnConflict } from './retry.js';

declare module 'hono' {
  interface ContextVariableMap {
    /** This request's session, opened by tsession's `sessions()` middleware; nothing is read until it is used. */
    session: TSession;
  }
}

/** Options of {@link sessions}. */
export interface HonoSessionOptions {
  /** Believe `X-Forwarded-Proto` (for the cookie's Secure default); set it behind a proxy you trust. @default false */
  trustProxy?: boolean;
  /**
   * The cookie's path: the path the app is mounted under (e.g. `/shop` for
   * `app.route('/shop', shop)`), so apps mounted side by side keep separate sessions.
   * `__Host-` cookies keep `Path=/`.
   * @default the id manager's own path
   */
  mountPath?: string;
}

/**
 * Hono middleware (Hono 4, on any runtime) that opens the request's session as
 * `c.get('session')`, runs the rest of the app, then commits before the response is
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
 *   const visits = await c.get('session').get('app.visits');
 *   visits.set('n', (visits.get('n') ?? 0) + 1);
 *   return c.json({ n: visits.get('n') });
 * });
 * ```
 */
export function sessions(manager: SessionManager, options: HonoSessionOptions = {}): MiddlewareHandler {
  const trustProxy = options.trustProxy ?? false;
  const mountPath = options.mountPath ?? '';
  return async function tsessionMiddleware(c: Context, next: () => Promise<void>): Promise<void> {
    const request = webSessionRequest(c.req.raw, trustProxy);
    states.set(c, { manager, request });
    c.set('session', manager.open(request));
    await next();
    const session = c.get('session');
    if (c.error) {
      if (session.isOpen) session.abort();
      answerSessionError(c, c.error);
      return;
    }
    if (session.isOpen) {
      if (c.res.status >= 500) session.abort();
      else await session.commit().catch((error: unknown) => Promise.reject(sessionError(error)));
    }
    for (const [name, value] of withCookiePath(session.responseHeaders, mountPath)) {
      c.header(name, value, { append: name.toLowerCase() === 'set-cookie' });
    }
  };
}

/** A tsession error that the app's error handler answered with a bare 500 gets its own status. */
function answerSessionError(c: Context, error: Error): void {
  if (!isSessionError(error) || c.res.status !== 500 || errorAnswer(error).status === 500) return;
  c.res = undefined;
  c.res = errorResponse(error);
}
