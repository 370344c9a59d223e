import { SessionConfigError } from '../errors.js';
import type { Session } from '../session/session.js';
import { sessionView } from './view.js';

/** Options of {@link sessionLocals}. */
export interface SessionLocalsOptions {
  /**
   * The name of the local the view is put under: templates read `<name>.path(...)`.
   * @default 'session'
   */
  name?: string;
}

/** What {@link sessionLocals} needs of Express's request: the session that `sessions(manager)` put there. */
export interface SessionLocalsRequest {
  tsession?: Session;
}

/** What {@link sessionLocals} needs of Express's response. */
export interface SessionLocalsResponse {
  locals: Record<string, unknown>;
}

/** The middleware {@link sessionLocals} returns; it fits `app.use()` and route stacks. */
export type SessionLocalsMiddleware = (
  req: SessionLocalsRequest,
  res: SessionLocalsResponse,
  next: (error?: unknown) => void,
) => void;

/**
 * Express middleware that loads the named packages of `req.tsession` without creating
 * any (`peek`) and puts a synchronous {@link SessionView} on `res.locals` (SPEC 41), so
 * templates of any engine (EJS, Pug, Handlebars, Nunjucks) read session data with
 * `session.path('session:pkg/key | fallback')`. A request that only renders sends no
 * cookie and writes nothing. Mount it after tsession's `sessions(manager)`, on the
 * routes that render; it reads the packages once, when the route is reached, so mount
 * it after any middleware of that route that writes to them.
 *
 * @param packages the package ids templates may read; others read as missing
 * @param [options.name='session'] the local's name
 * @throws SessionConfigError when `packages` is not an array of package ids or `name` is empty
 * @example
 * ```ts
 * import { sessions } from 'tsession/express';
 * import { sessionLocals } from 'tsession/templates';
 *
 * app.use(sessions(manager));
 * app.get('/', sessionLocals(['shop.cart', 'app.auth']), (req, res) => res.render('home'));
 * // home.ejs: <%= session.path('session:app.auth/user | guest') %>
 * ```
 */
export function sessionLocals(
  packages: readonly string[],
  { name = 'session' }: SessionLocalsOptions = {},
): SessionLocalsMiddleware {
  if (!Array.isArray(packages) || !packages.every((pkg) => typeof pkg === 'string' && pkg !== '')) {
    throw new SessionConfigError(
      `sessionLocals: \`packages\` must be an array of package ids, e.g. ['shop.cart'], got ${String(packages)}`,
    );
  }
  if (typeof name !== 'string' || name === '') {
    throw new SessionConfigError("sessionLocals: `name` must be a non-empty string, e.g. 'session'");
  }
  const loaded = [...packages];
  return function sessionLocalsMiddleware(req, res, next): void {
    const session = req.tsession;
    if (!session) {
      next(new SessionConfigError("sessionLocals: mount tsession's `sessions(manager)` middleware before it"));
      return;
    }
    sessionView(session, loaded).then((view) => {
      res.locals[name] = view;
      next();
    }, next);
  };
}
