import type { Context, Middleware, Next } from 'koa';
import type { SessionRequest } from '../../client-id/types.js';
import { isSessionError, SessionConfigError } from '../../errors.js';
import type { SessionManager } from '../../session/manager.js';
import { Session as TSession } from '../../session/session.js';
import { NodeSessionRequest, type RequestAccess } from '../shared/node-request.js';
import { type ResponseSnapshot, restoreResponse, snapshotResponse } from '../shared/node-response.js';
import { committedOrRetry, type RetryOptions, retryAttempts } from '../shared/retry.js';

export type { RetryOptions } from '../shared/retry.js';

declare module 'koa' {
  interface DefaultContext {
    /**
     * This request's session, opened by tsession's `sessions()` middleware; nothing is
     * read until it is used. Named `tsession` rather than `session` so that it never
     * clashes with koa-session, which defines `ctx.tsession`.
     */
    tsession: TSession;
  }
}

/** Options of {@link sessions}. */
export interface KoaSessionOptions {
  /**
   * The path of the id's cookie, e.g. the path a router mounted this middleware under
   * (`/shop`), so apps mounted side by side keep separate sessions. `__Host-` cookies
   * keep `Path=/`.
   * @default the id manager's own `path`
   */
  cookiePath?: string;
}

/**
 * Koa middleware (Koa 2 and 3) that puts the request's session on `ctx.tsession`, runs
 * the rest of the app, then commits before Koa sends the response (so a redirect
 * followed at once by the next request sees the data; stream and `Content-Length`
 * bodies alike) and appends the id manager's headers.
 *
 * - `Secure` follows `ctx.secure`, so `app.proxy` decides whether `X-Forwarded-Proto`
 *   is believed.
 * - With the `form` conveyance, the id is read from `ctx.request.body` as a body parser
 *   (`@koa/bodyparser`, `koa-body`) left it, mounted before the routes that read the session.
 * - An error thrown downstream, or a 5xx response, aborts the session: nothing is written.
 * - tsession's errors carry `status` (and `expose` for client errors), so Koa's error
 *   handling answers 409 for a conflicting commit and 503 for a store that is down; opt
 *   a route into retrying with {@link retryOnConflict}.
 * - A handler that bypasses Koa (`ctx.respond = false`, writing `ctx.res` itself) sends
 *   its head before this middleware commits: commit first with `await ctx.tsession.commit()`.
 *
 * @example
 * ```ts
 * import { sessions } from 'tsession/koa';
 *
 * const app = new Koa();
 * app.proxy = true;
 * app.use(sessions(manager));
 * app.use(async (ctx) => {
 *   const visits = await ctx.tsession.get('app.visits');
 *   visits.set('n', (visits.get('n') ?? 0) + 1);
 *   ctx.body = { n: visits.get('n') };
 * });
 * ```
 */
export function sessions(manager: SessionManager, options: KoaSessionOptions = {}): Middleware {
  const cookiePath = options.cookiePath;
  return async function tsessionMiddleware(ctx: Context, next: Next): Promise<void> {
    ctx.tsession = manager.open(koaSessionRequest(ctx, cookiePath));
    try {
      await next();
    } catch (error) {
      if (ctx.tsession.isOpen) ctx.tsession.abort();
      throw exposed(error);
    }
    const session = ctx.tsession;
    if (session.isOpen) {
      if (ctx.status >= 500) session.abort();
      else {
        const pending = finished(session);
        if (pending) await pending;
      }
    }
    for (const [name, value] of session.responseHeaders) {
      if (name.toLowerCase() === 'set-cookie') ctx.append(name, value);
      else ctx.set(name, value);
    }
  };
}

/** Commits, waiting only when the commit needs the store; errors come out exposed as Koa expects. */
function finished(session: TSession): Promise<unknown> | undefined {
  try {
    const headers = session.finish();
    return headers instanceof Promise ? headers.catch((error: unknown) => Promise.reject(exposed(error))) : undefined;
  } catch (error) {
    throw exposed(error);
  }
}

/** Marks tsession's client errors (4xx) as safe to show, as `ctx.throw` would. */
function exposed(error: unknown): unknown {
  if (isSessionError(error) && !('expose' in error)) {
    Object.defineProperty(error, 'expose', { value: error.status < 500, configurable: true });
  }
  return error;
}
/**
 * Lets a handler be run again when its commit loses a race (`ConflictError`), as Zope's
 * publisher retried conflicting requests: the wrapper commits right after the handler,
 * and on a conflict forgets the body, status and headers it set and runs it again with
 * a fresh `ctx.tsession` that sees the winner's data. Use it only for handlers that are
 * safe to run twice. When every attempt conflicts, Koa answers 409.
 *
 * @throws SessionConfigError when `attempts` is not a positive integer
 * @example
 * ```ts
 * router.post('/counter', retryOnConflict(async (ctx) => {
 *   const counter = await ctx.tsession.get('app.counter');
 *   counter.set('n', (counter.get('n') ?? 0) + 1);
 *   ctx.body = { n: counter.get('n') };
 * }));
 * ```
 */
export function retryOnConflict(handler: Middleware, options: RetryOptions = {}): Middleware {
  const attempts = retryAttempts(options);
  return async function retryingMiddleware(ctx: Context, next: Next): Promise<void> {
    if (!(ctx.tsession instanceof TSession)) {
      throw new SessionConfigError("retryOnConflict: use tsession's `sessions(manager)` middleware first");
    }
    const before = snapshotKoaResponse(ctx);
    for (let attempt = 1; ; attempt++) {
      await handler(ctx, next);
      if (await committedOrRetry(ctx.tsession, attempt, attempts)) return;
      restoreKoaResponse(ctx, before);
      ctx.tsession = ctx.tsession.reopen();
    }
  };
}

/** What only Koa knows of a request: `ctx.secure` (`app.proxy`), and the body a parser such as `@koa/bodyparser` left. */
const KOA_ACCESS: RequestAccess<Context> = {
  secure: (ctx) => ctx.secure,
  body: (ctx) => (ctx.request as { body?: unknown }).body,
};

function koaSessionRequest(ctx: Context, cookiePath: string | undefined): SessionRequest {
  return new NodeSessionRequest(ctx.method, ctx.originalUrl, ctx.headers, ctx, KOA_ACCESS, cookiePath);
}

/** Koa's response state that a handler run changes; its field names are the same in Koa 2 and 3. */
interface KoaResponseInternals {
  _body: unknown;
  _explicitStatus?: boolean | undefined;
  _explicitNullBody?: boolean | undefined;
}

/** The response as it was before a handler ran: the node response's, and Koa's own status flag. */
interface KoaResponseSnapshot extends ResponseSnapshot {
  readonly explicitStatus: boolean | undefined;
}

/** The response as a handler is about to find it, for a retry to return to. */
function snapshotKoaResponse(ctx: Context): KoaResponseSnapshot {
  const internals = ctx.response as unknown as KoaResponseInternals;
  return { ...snapshotResponse(ctx.res), explicitStatus: internals._explicitStatus };
}

/** Forgets the body, status and headers a handler run set, for a conflict retry. */
function restoreKoaResponse(ctx: Context, snap: KoaResponseSnapshot): void {
  const internals = ctx.response as unknown as KoaResponseInternals;
  restoreResponse(ctx.res, snap);
  internals._body = undefined;
  internals._explicitNullBody = undefined;
  internals._explicitStatus = snap.explicitStatus;
}
