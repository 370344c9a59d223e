import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SessionRequest } from '../../client-id/types.js';
import type { SessionManager } from '../../session/manager.js';
import type { Session } from '../../session/session.js';
import type { HeldResponse } from '../shared/hold-response.js';

/** The response's status and headers before a handler ran, to restore for a retry or an error answer. */
export interface ResponseSnapshot {
  readonly status: number;
  readonly headers: ReturnType<ServerResponse['getHeaders']>;
}

/** What `sessions()` keeps per request, under a symbol so it never meets user data. */
export interface ExpressSessionState {
  readonly manager: SessionManager;
  readonly request: SessionRequest;
  session: Session;
  held: HeldResponse;
  snapshot: ResponseSnapshot;
  /** Set by `retryOnConflict`: runs the handler again; false when no attempt is left. */
  retry?: () => boolean;
}

export const STATE = Symbol('tsession.express');

/** The state `sessions()` left on the request, if it ran. */
export function stateOf(req: IncomingMessage): ExpressSessionState | undefined {
  return (req as IncomingMessage & { [STATE]?: ExpressSessionState })[STATE];
}

export function snapshot(res: ServerResponse): ResponseSnapshot {
  return { status: res.statusCode, headers: res.getHeaders() };
}

/** Puts back the status and headers of a snapshot, dropping whatever the handler set since. */
export function restore(res: ServerResponse, snap: ResponseSnapshot): void {
  for (const name of res.getHeaderNames()) res.removeHeader(name);
  for (const [name, value] of Object.entries(snap.headers)) {
    if (value !== undefined) res.setHeader(name, value);
  }
  res.statusCode = snap.status;
}

/** Opens a fresh session for the same request, as a conflict retry needs. */
export function reopen(state: ExpressSessionState, req: IncomingMessage): Session {
  state.session = state.manager.open(state.request);
  (req as IncomingMessage & { tsession: Session }).tsession = state.session;
  return state.session;
}
