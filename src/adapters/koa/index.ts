import type { Context, Middleware, Next } from 'koa';
import { isSessionError } from '../../errors.js';
import type { SessionManager } from '../../session/manager.js';
import type { Session as TSession } from '../../session/session.js';
import { withCookiePath } from '../shared/cookie-path.js';
import { koaSessionRequest, states } from './state.js';

export { type RetryOptions, retryOnConflict } from './retry.js';

declare module 'koa' {
  interface DefaultContext {
    /** This request's session, opened by tsession's `sessions()` middleware; nothing is read until it is used. */
    session: TSession;
  }
}

/** Options of {@link sessions}. */
export interface KoaSessionOptions {
  /**
   * The cookie's path: the path a router mounted this middleware under (e.g. `/shop`),
   * so apps mounted side by side keep separate sessions. `__Host-` cookies keep `Path=/`.
   * @default the id manager's own path
   */
  mountPath?: string;
}

/**
 * Koa middleware (Koa 2 and 3) that puts the request's session on `ctx.session`, runs
 * the rest of the app, then commits before Koa sends the response (so a redirect
 * followed at once by the next request sees the data; stream and `Content-Length`
 * bodies alike) and appends the id manager's headers.
 *
 * - `Secure` follows `ctx.secure`, so `app.proxy` decides whether `X-Forwarded-Proto`
 *   is believed.
 * - An error thrown downstream, or a 5xx response, aborts the session: nothing is written.
 * - tsession's errors carry `status` (and `expose` for client errors), so Koa's error
 *   handling answers 409 for a conflicting commit and 503 for a store that is down; opt
 *   a route into retrying with {@link retryOnConflict}.
 * - A handler that bypasses Koa (`ctx.respond = false`, writing `ctx.res` itself) sends
 *   its head before this middleware commits: commit first with `await ctx.session.commit()`.
 *
 * @example
 * ```ts
 * import { sessions } from 'tsession/koa';
 *
 * const app = new Koa();
 * app.proxy = true;
 * app.use(sessions(manager));
 * app.use(async (ctx) => {
 *   const visits = await ctx.session.get('app.visits');
 *   visits.set('n', (visits.get('n') ?? 0) + 1);
 *   ctx.body = { n: visits.get('n') };
 * });
 * ```
 */
export function sessions(manager: SessionManager, options: KoaSessionOptions = {}): Middleware {
  const mountPath = options.mountPath ?? '';
  return async function tsessionMiddleware(ctx: Context, next: Next): Promise<void> {
    const request = koaSessionRequest(ctx);
    states.set(ctx, { manager, request });
    ctx.session = manager.open(request);
    try {
      await next();
    } catch (error) {
      if (ctx.session.isOpen) ctx.session.abort();
      throw exposed(error);
    }
    const session = ctx.session;
    if (session.isOpen) {
      if (ctx.status >= 500) session.abort();
      else await session.commit().catch((error: unknown) => Promise.reject(exposed(error)));
    }
    for (const [name, value] of withCookiePath(session.responseHeaders, mountPath)) {
      if (name.toLowerCase() === 'set-cookie') ctx.append(name, value);
      else ctx.set(name, value);
    }
  };
}

/** Marks tsession's client errors (4xx) as safe to show, as `ctx.throw` would. */
function exposed(error: unknown): unknown {
  if (isSessionError(error) && !('expose' in error)) {
    Object.defineProperty(error, 'expose', { value: error.status < 500, configurable: true });
  }
  return error;
}
