import type { IncomingMessage } from 'node:http';
import type { SessionRequest } from '../../client-id/types.js';
import type { SessionManager } from '../../session/manager.js';
import type { Session } from '../../session/session.js';
import type { HeldResponse } from '../shared/hold-response.js';
import type { ResponseSnapshot } from '../shared/node-response.js';
import { RequestState } from '../shared/request-state.js';

/** What `sessions()` keeps per request */
export interface ExpressSessionState {
  readonly manager: SessionManager;
  readonly request: SessionRequest;
  session: Session;
  held: HeldResponse;
  snapshot: ResponseSnapshot;
  /** Set by `retryOnConflict`: runs the handler again; false when no attempt is left. */
  retry?: () => boolean;
}

/** Per-request state. */
export const states = new RequestState<IncomingMessage, ExpressSessionState>('tsession.express');

/** Opens a fresh session for the same request, as a conflict retry needs. */
export function reopen(state: ExpressSessionState, req: IncomingMessage): Session {
  state.session = state.manager.open(state.request);
  (req as IncomingMessage & { tsession: Session }).tsession = state.session;
  return state.session;
}
