import type { IncomingMessage, ServerResponse } from 'node:http';
import { ConflictError } from '../../errors.js';
import type { SessionManager } from '../../session/manager.js';
import type { Session } from '../../session/session.js';
import { errorAnswer, logServerErrors } from '../shared/errors.js';
import { holdResponse, sendPlainError } from '../shared/hold-response.js';
import { nodeSessionRequest, type TrustProxy } from '../shared/node-request.js';
import { type HttpSessionState, states } from './state.js';

export type { TrustProxy } from '../shared/node-request.js';
export { type RetryOptions, retryOnConflict } from './retry.js';

/** A node:http request with its session. */
export interface SessionIncomingMessage extends IncomingMessage {
  /** This request's session; nothing is read until it is used. */
  session: Session;
}

/** A node:http handler that gets the session on `req.session`. */
export type SessionRequestListener = (req: SessionIncomingMessage, res: ServerResponse) => unknown;

/** Options of {@link withSessions}. */
export interface HttpSessionOptions {
  /** Believe `X-Forwarded-Proto` (for the cookie's Secure default) from these peers. @default false */
  trustProxy?: TrustProxy;
  /** Told about every error the adapter answers for (handler errors and failed commits). @default console.error for 5xx */
  onError?: (error: unknown, req: IncomingMessage) => void;
}

/**
 * Wraps a node:http handler so that `req.session` is this request's session, its
 * changes are committed before the response's head goes out (so a redirect followed
 * at once by the next request sees them), and nothing is written when the handler
 * throws. Typed errors become responses: 409 for a conflict, 503 for a store that is
 * down.
 *
 * @example
 * ```ts
 * http.createServer(withSessions(manager, async (req, res) => {
 *   const counter = await req.session.get('demo.counter');
 *   counter.set('n', (counter.get('n') ?? 0) + 1);
 *   res.end(`visits: ${counter.get('n')}`);
 * })).listen(3000);
 * ```
 */
export function withSessions(
  manager: SessionManager,
  handler: SessionRequestListener,
  options: HttpSessionOptions = {},
): (req: IncomingMessage, res: ServerResponse) => void {
  const onError = options.onError ?? logServerErrors;
  return function sessionRequestListener(req, res) {
    const request = nodeSessionRequest(req, options.trustProxy);
    const session = manager.open(request);
    const fail = (error: unknown) => {
      if (error instanceof ConflictError && state.retry?.()) return;
      onError(error, req);
      const { status, message } = errorAnswer(error);
      sendPlainError(res, status, message);
    };
    const held = holdResponse(res, () => settle(state.session), fail);
    const handlerFailed = (error: unknown) => {
      // Once the response has begun, the commit decides its outcome; the error is only reported.
      if (held.hasStarted()) return onError(error, req);
      if (state.session.isOpen) state.session.abort();
      fail(error);
    };
    const state: HttpSessionState = { manager, request, session, held, handlerFailed };
    states.set(req, state);
    (req as SessionIncomingMessage).session = session;
    let result: unknown;
    try {
      result = handler(req as SessionIncomingMessage, res);
    } catch (error) {
      return handlerFailed(error);
    }
    if (result instanceof Promise) result.catch(handlerFailed);
  };
}

/** Commits an open session and resolves its headers; undefined when there is nothing to do. */
export function settle(session: Session): ReturnType<Parameters<typeof holdResponse>[1]> {
  if (!session.isOpen) return undefined;
  return session.commit().then(() => session.responseHeaders);
}

export { fetchListener } from './fetch-listener.js';
