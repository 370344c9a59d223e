import type { SessionRequest } from '../../client-id/types.js';
import type { SessionManager } from '../../session/manager.js';
import type { Session } from '../../session/session.js';

/** What `withSessions` keeps per request. */
export interface WebSessionState {
  readonly manager: SessionManager;
  readonly request: SessionRequest;
  /** The current session: a conflict retry replaces it. */
  session: Session;
}

/** Per-request state, keyed by the Request object the handler receives. */
export const states = new WeakMap<Request, WebSessionState>();
