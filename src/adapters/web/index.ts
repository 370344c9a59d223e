import { SessionConfigError } from '../../errors.js';
import type { SessionManager } from '../../session/manager.js';
import type { Session } from '../../session/session.js';
import { logServerErrors } from '../shared/errors.js';
import { RequestState } from '../shared/request-state.js';
import { committedOrRetry, type RetryOptions, retryAttempts } from '../shared/retry.js';
import { commitToResponse, errorResponse, readForm, webSessionRequest } from '../shared/web-request.js';

export type { RetryOptions } from '../shared/retry.js';
export {
  commitToResponse,
  readForm,
  type WebRequestOptions,
  webSessionRequest,
  withSessionHeaders,
} from '../shared/web-request.js';

/** The current session of a request: a conflict retry replaces it. */
const sessions = new RequestState<Request, { session: Session }>('tsession.web');

/** A Web-standard handler that gets the request's session as its second argument. */
export type SessionFetchHandler = (request: Request, session: Session) => Response | Promise<Response>;

/** Options of {@link withSessions}. */
export interface WebSessionOptions {
  /** Believe `X-Forwarded-Proto` (for the cookie's Secure default). @default false */
  trustProxy?: boolean;
  /** Told about every error the adapter answers for. @default console.error for 5xx */
  onError?: (error: unknown, request: Request) => void;
}

/**
 * Wraps a `(Request) => Response` handler (Deno, Bun, Cloudflare-style runtimes, or
 * Node through a Fetch server): the session is committed once the handler's response
 * is ready and before it is returned, with its headers added; a handler that throws
 * writes nothing. Typed errors become responses (409, 503, ...).
 *
 * @example
 * ```ts
 * export default { fetch: withSessions(manager, async (request, session) => {
 *   const prefs = await session.get('app.prefs');
 *   return Response.json({ theme: prefs.get('theme') ?? 'light' });
 * }) };
 * ```
 */
export function withSessions(
  manager: SessionManager,
  handler: SessionFetchHandler,
  options: WebSessionOptions = {},
): (request: Request) => Promise<Response> {
  const onError = options.onError ?? logServerErrors;
  // The form conveyance reads a clone's body before the handler: paid only when configured.
  const readsForms = manager.clientIds.conveyances?.includes('form') === true;
  return async function sessionFetchHandler(request) {
    const form = readsForms ? await readForm(request) : undefined;
    const state = { session: manager.open(webSessionRequest(request, { trustProxy: options.trustProxy, form })) };
    sessions.set(request, state);
    try {
      const response = await handler(request, state.session);
      return await commitToResponse(state.session, response);
    } catch (error) {
      if (state.session.isOpen) state.session.abort();
      onError(error, request);
      return errorResponse(error);
    }
  };
}

/**
 * Lets a handler be run again when its commit loses a race (`ConflictError`), as Zope's
 * publisher retried conflicting requests: the wrapper commits right after the handler
 * returns its Response, and on a conflict drops that Response and runs the handler again
 * with a fresh session that sees the winner's data. Use it inside {@link withSessions},
 * for handlers that are safe to run twice. When every attempt conflicts, the answer is 409.
 *
 * @throws SessionConfigError when `attempts` is not a positive integer
 * @example
 * ```ts
 * const counter = retryOnConflict(async (request, session) => {
 *   const data = await session.get('app.counter');
 *   data.set('n', (data.get('n') ?? 0) + 1);
 *   return Response.json({ n: data.get('n') });
 * });
 * export default { fetch: withSessions(manager, (request, session) => counter(request, session)) };
 * ```
 */
export function retryOnConflict(handler: SessionFetchHandler, options: RetryOptions = {}): SessionFetchHandler {
  const attempts = retryAttempts(options);
  return async function retryingFetchHandler(request, session) {
    const state = sessions.get(request);
    if (!state) throw new SessionConfigError('retryOnConflict: call it inside the handler given to `withSessions`');
    state.session = session;
    for (let attempt = 1; ; attempt++) {
      const response = await handler(request, state.session);
      if (await committedOrRetry(state.session, attempt, attempts)) return response;
      state.session = state.session.reopen();
    }
  };
}
