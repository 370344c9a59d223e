import type { IncomingMessage } from 'node:http';
import type { SessionRequest } from '../../client-id/types.js';
import type { SessionManager } from '../../session/manager.js';
import type { Session } from '../../session/session.js';
import type { HeldResponse } from '../shared/hold-response.js';
import { RequestState } from '../shared/request-state.js';

/** What `withSessions` keeps per request */
export interface HttpSessionState {
  readonly manager: SessionManager;
  readonly request: SessionRequest;
  /** The current session: a conflict retry replaces it. */
  session: Session;
  readonly held: HeldResponse;
  /** Answers a handler's error (abort, then the error response). */
  readonly handlerFailed: (error: unknown) => void;
  /** Set by `retryOnConflict`: runs the handler again; false when no attempt is left. */
  retry?: () => boolean;
}

/** Per-request state. */
export const states = new RequestState<IncomingMessage, HttpSessionState>('tsession.http');
