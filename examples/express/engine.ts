/**
 * A ten-line Express view engine for the example, so it needs no template package:
 * every `{{ session:pkg/key | fallback }}` in the file is read through the view that
 * `sessionLocals` put on `res.locals.session`, and HTML-escaped. With a real engine
 * the template calls the view itself:
 *
 * - EJS: `<%= session.path('session:example.auth/user | guest') %>`
 * - Pug: `p= session.path('session:example.auth/user | guest')`
 * - Nunjucks: `{{ session.path('session:example.auth/user | guest') }}`
 * - Handlebars: register a helper, `(expr, { data }) => data.root.session.path(expr)`
 */
import { readFile } from 'node:fs/promises';
import type { SessionView } from 'tsession/templates';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** For `app.engine('html', pathEngine)`; arrays render as comma-separated lists. */
export function pathEngine(file: string, locals: object, done: (error: unknown, html?: string) => void): void {
  const { session } = locals as { session: SessionView };
  readFile(file, 'utf8').then((template) => {
    const html = template.replace(/\{\{\s*(session:[^}]*?)\s*\}\}/g, (_, expression: string) => {
      const value = session.path(expression);
      return String(Array.isArray(value) ? value.join(', ') : value).replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
    });
    done(null, html);
  }, done);
}
