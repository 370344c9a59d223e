import type { SessionRequest } from '../../client-id/types.js';
import type { SessionManager } from '../../session/manager.js';
import type { Session } from '../../session/session.js';
import { RequestState } from '../shared/request-state.js';

/** What `withSessions` keeps per request. */
export interface WebSessionState {
  readonly manager: SessionManager;
  readonly request: SessionRequest;
  /** The current session: a conflict retry replaces it. */
  session: Session;
}

/** Per-request state. */
export const states = new RequestState<Request, WebSessionState>('tsession.web');
