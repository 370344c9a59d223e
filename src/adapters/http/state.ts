import type { IncomingMessage } from 'node:http';
import type { SessionRequest } from '../../client-id/types.js';
import type { SessionManager } from '../../session/manager.js';
import type { Session } from '../../session/session.js';
import type { HeldResponse } from '../shared/hold-response.js';

/** What `withSessions` keeps per request, under a symbol so it never meets user data. */
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

const STATE = Symbol('tsession.http');

type WithState = IncomingMessage & { [STATE]?: HttpSessionState };

export function stateOf(req: IncomingMessage): HttpSessionState | undefined {
  return (req as WithState)[STATE];
}

export function setState(req: IncomingMessage, state: HttpSessionState): void {
  (req as WithState)[STATE] = state;
}
