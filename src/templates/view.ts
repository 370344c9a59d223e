import type { PackageData } from '../session/package-data.js';
import type { Session } from '../session/session.js';
import { parseSessionPath, resolvePath } from './path.js';

/**
 * A synchronous, read-only view of some packages of a session, for template engines
 * whose helpers cannot await (EJS, Pug, Handlebars, Nunjucks). Load it in the route,
 * hand it to the template (e.g. as `res.locals.session`), and read with `path()`.
 */
export interface SessionView {
  /** Resolves `session:pkg/key/... | fallback` among the loaded packages; other packages read as missing. */
  path(expression: string): unknown;
  /** One key of one loaded package. */
  get(pkg: string, key: string): unknown;
}

/**
 * Loads the named packages without creating any (`peek`) and returns a synchronous view.
 *
 * @example
 * ```ts
 * res.locals.session = await sessionView(req.tsession, ['shop.cart', 'app.prefs']);
 * // in EJS: <%= session.path('session:app.prefs/theme | light') %>
 * ```
 */
export async function sessionView(session: Session, packages: readonly string[]): Promise<SessionView> {
  const loaded = new Map<string, PackageData>();
  for (const pkg of packages) {
    const data = await session.peek(pkg);
    if (data) loaded.set(pkg, data as PackageData);
  }
  return {
    get: (pkg, key) => loaded.get(pkg)?.get(key),
    path(expression) {
      const parsed = parseSessionPath(expression);
      return resolvePath(loaded.get(parsed.pkg), parsed);
    },
  };
}
