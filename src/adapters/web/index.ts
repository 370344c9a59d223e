import type { SessionManager } from '../../session/manager.js';
import type { Session } from '../../session/session.js';
import { logServerErrors } from '../shared/errors.js';
import { commitToResponse, errorResponse, webSessionRequest } from '../shared/web-request.js';
import { states, type WebSessionState } from './state.js';

export { commitToResponse, webSessionRequest, withSessionHeaders } from '../shared/web-request.js';
export { type RetryOptions, retryOnConflict } from './retry.js';

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
  return async function sessionFetchHandler(request) {
    const sessionRequest = webSessionRequest(request, options.trustProxy);
    const state: WebSessionState = { manager, request: sessionRequest, session: manager.open(sessionRequest) };
    states.set(request, state);
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
