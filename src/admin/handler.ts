import { errorAnswer } from '../adapters/shared/errors.js';
import { SessionDataContainer } from '../container/container.js';
import { SessionConfigError } from '../errors.js';
import type { SessionManager } from '../session/manager.js';
import { principalOf, recordsOfPrincipal } from '../session/principals.js';
import type { ScannedSession } from '../stores/types.js';
import { exportSessions } from '../transfer/export.js';
import { ADMIN_CSS, ADMIN_JS } from './assets.js';
import { CsrfGuard } from './csrf.js';
import { History } from './history.js';
import { listPage, type PageContext, sessionPage } from './pages.js';

/** Options of {@link createAdminHandler}. */
export interface AdminOptions {
  /** Decides whether a request may use the admin page at all. Every request is refused unless it resolves true. Required. */
  authorize: (request: Request) => boolean | Promise<boolean>;
  /** The path the handler is mounted at, e.g. `/admin/`. @default '/' */
  basePath?: string;
  /** The container to inspect. @default the container passed, or the manager's default container */
  container?: SessionDataContainer;
  /** Sessions per list page. @default 50 */
  pageSize?: number;
}

const SECURITY_HEADERS = {
  'Cache-Control': 'no-store',
  'Content-Security-Policy':
    "default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  // same-origin, not no-referrer: under no-referrer browsers send `Origin: null` with form posts, which the CSRF check refuses.
  'Referrer-Policy': 'same-origin',
};

const DONE_MESSAGES: Record<string, (n: string) => string> = {
  deleted: () => 'Session deleted.',
  missing: () => 'That session no longer exists.',
  swept: (n) => `Swept ${Number(n) || 0} expired sessions.`,
  ended: (n) => `Ended ${Number(n) || 0} sessions of that user.`,
};

/**
 * The admin page as a `(Request) => Response` handler that any adapter can mount: lists
 * sessions with search and paging, shows one session's data read-only, deletes, sweeps,
 * exports as JSON Lines, and charts live sessions and store operations. It refuses
 * every request that `authorize` does not allow, and state-changing forms carry a CSRF
 * token. Listing scans the store, so it costs O(sessions) per page on large stores.
 *
 * @example
 * ```ts
 * const admin = createAdminHandler(manager, { basePath: '/admin/', authorize: (req) => isAdmin(req) });
 * ```
 */
export function createAdminHandler(
  source: SessionManager | SessionDataContainer,
  options: AdminOptions,
): (request: Request) => Promise<Response> {
  if (typeof options?.authorize !== 'function') {
    throw new SessionConfigError(
      'createAdminHandler needs `authorize(request)`: the admin page refuses everyone without it',
    );
  }
  const base = normalizeBase(options.basePath ?? '/');
  const container =
    options.container ??
    (source instanceof SessionDataContainer ? source : (source.containers[0] as SessionDataContainer));
  const pageSize = options.pageSize ?? 50;
  const csrf = new CsrfGuard(base);
  const history = new History();

  return async function adminHandler(request) {
    try {
      return await handle(request);
    } catch (error) {
      // The handler never throws (SPEC 49): a store or authorize failure is an answer, its detail stays server-side.
      const { status, message } = errorAnswer(error);
      return text(status, message);
    }
  };

  async function handle(request: Request): Promise<Response> {
    if (!(await options.authorize(request))) return text(403, 'Forbidden');
    const url = new URL(request.url);
    // A malformed escape in the path would make every decodeURIComponent below throw: refuse it once, here.
    if (!decodable(url.pathname)) return text(400, 'Bad Request: malformed percent-encoding in the path');
    if (!url.pathname.startsWith(base) && `${url.pathname}/` !== base) return text(404, 'Not Found');
    const route = url.pathname.slice(base.length);
    const { token, setCookie } = csrf.token(request);
    const ctx: PageContext = { base, csrf: token, message: doneMessage(url) };
    const response = await answer(request, route, url, ctx);
    if (setCookie) response.headers.append('Set-Cookie', setCookie);
    return response;
  }

  async function answer(request: Request, route: string, url: URL, ctx: PageContext): Promise<Response> {
    const now = container.clock();
    if (request.method === 'POST') {
      const form = await request.formData().catch(() => new FormData());
      if (!csrf.verify(request, form)) return text(403, 'Forbidden: missing or wrong CSRF token');
      return post(route, ctx);
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') return text(405, 'Method Not Allowed');
    if (route === '') return html(await list(url, ctx, now));
    if (route === 'assets/admin.css') return asset(ADMIN_CSS, 'text/css');
    if (route === 'assets/admin.js') return asset(ADMIN_JS, 'text/javascript');
    if (route === 'api/stats') return json({ history: await history.sample(container, now) });
    if (route === 'export') return download(now);
    const key = sessionKey(route);
    if (key !== undefined) {
      const session = await container.store.load(key, now);
      return session ? html(sessionPage(ctx, key, session, container.codec)) : text(404, 'No such live session');
    }
    return text(404, 'Not Found');
  }

  async function post(route: string, ctx: PageContext): Promise<Response> {
    if (route === 'sweep') return redirect(ctx, 'swept', await container.sweep());
    const user = /^user\/([^/]+)\/end$/.exec(route);
    if (user) return redirect(ctx, 'ended', await endSessionsOf(decodeURIComponent(user[1] as string)));
    const match = /^session\/([^/]+)\/delete$/.exec(route);
    if (match) {
      const deleted = await container.destroy(decodeURIComponent(match[1] as string), 'invalidated');
      return redirect(ctx, deleted ? 'deleted' : 'missing');
    }
    return text(404, 'Not Found');
  }

  /** Ends a user's sessions: through the manager in every container, else in the container shown. */
  async function endSessionsOf(user: string): Promise<number> {
    if (!(source instanceof SessionDataContainer) && options.container === undefined) return source.endSessionsOf(user);
    const records = await recordsOfPrincipal(container.store, container.codec, user, container.clock());
    const ended = await Promise.all(records.map((r) => container.destroy(r.key, 'invalidated')));
    return ended.filter(Boolean).length;
  }

  async function list(url: URL, ctx: PageContext, now: number): Promise<string> {
    const query = url.searchParams.get('q')?.trim() ?? '';
    const page = Math.max(1, Number.parseInt(url.searchParams.get('page') ?? '1', 10) || 1);
    const user = url.searchParams.get('user')?.trim() ?? '';
    const users = { user, principalOf: (r: ScannedSession) => principalOf(container.codec, r) };
    if (user !== '' && container.store.capabilities.principals !== true) {
      const message = 'This store cannot find sessions by user (capabilities.principals is false).';
      return listPage({ ...ctx, message }, query, 1, [], false, users);
    }
    if (user !== '') return listPage(ctx, query, 1, await userSessions(user, now), false, users);
    const rows: ScannedSession[] = [];
    let skip = (page - 1) * pageSize;
    let more = false;
    for await (const session of container.store.scan(now)) {
      if (!matches(session, query)) continue;
      if (skip > 0) {
        skip--;
        continue;
      }
      if (rows.length === pageSize) {
        more = true;
        break;
      }
      rows.push(session);
    }
    return listPage(ctx, query, page, rows, more, users);
  }

  /** The user's live sessions, through the store's index. */
  async function userSessions(user: string, now: number): Promise<ScannedSession[]> {
    const records = await recordsOfPrincipal(container.store, container.codec, user, now);
    return records.filter((r) => !container.isExpired(r, now));
  }

  function download(now: number): Response {
    const lines = exportSessions(container.store, now);
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const next = await lines.next();
        if (next.done) controller.close();
        else controller.enqueue(new TextEncoder().encode(next.value));
      },
    });
    return new Response(body, {
      headers: {
        ...SECURITY_HEADERS,
        'Content-Type': 'application/x-ndjson; charset=utf-8',
        'Content-Disposition': `attachment; filename="sessions-${new Date(now * 1000).toISOString().slice(0, 10)}.jsonl"`,
      },
    });
  }
}

/** True when every `%` escape in `path` decodes (to well-formed UTF-8). */
function decodable(path: string): boolean {
  try {
    decodeURIComponent(path);
    return true;
  } catch {
    return false;
  }
}

function matches(session: ScannedSession, query: string): boolean {
  return query === '' || session.key.startsWith(query) || session.entries.some((e) => e.pkg.includes(query));
}

function sessionKey(route: string): string | undefined {
  const match = /^session\/([^/]+)$/.exec(route);
  return match ? decodeURIComponent(match[1] as string) : undefined;
}

function doneMessage(url: URL): string | undefined {
  const done = url.searchParams.get('done');
  return done && Object.hasOwn(DONE_MESSAGES, done)
    ? DONE_MESSAGES[done]?.(url.searchParams.get('n') ?? '')
    : undefined;
}

function normalizeBase(path: string): string {
  const withSlash = path.endsWith('/') ? path : `${path}/`;
  return withSlash.startsWith('/') ? withSlash : `/${withSlash}`;
}

function redirect(ctx: PageContext, done: string, n?: number): Response {
  const query = new URLSearchParams({ done, ...(n !== undefined && { n: String(n) }) });
  return new Response(null, { status: 303, headers: { ...SECURITY_HEADERS, Location: `${ctx.base}?${query}` } });
}

function html(body: string): Response {
  return new Response(body, { headers: { ...SECURITY_HEADERS, 'Content-Type': 'text/html; charset=utf-8' } });
}

function json(value: unknown): Response {
  return new Response(JSON.stringify(value), { headers: { ...SECURITY_HEADERS, 'Content-Type': 'application/json' } });
}

function text(status: number, body: string): Response {
  return new Response(body, { status, headers: { ...SECURITY_HEADERS, 'Content-Type': 'text/plain; charset=utf-8' } });
}

function asset(body: string, type: string): Response {
  return new Response(body, {
    headers: { ...SECURITY_HEADERS, 'Content-Type': `${type}; charset=utf-8`, 'Cache-Control': 'private, max-age=300' },
  });
}
