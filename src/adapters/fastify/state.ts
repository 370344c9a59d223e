import type { FastifyRequest } from 'fastify';
import type { SessionRequest } from '../../client-id/types.js';
import type { SessionManager } from '../../session/manager.js';
import type { Session as TSession } from '../../session/session.js';
import { NodeSessionRequest } from '../shared/node-request.js';
import { RequestState } from '../shared/request-state.js';

/** What the plugin keeps per request */
export interface FastifySessionState {
  readonly manager: SessionManager;
  readonly request: SessionRequest;
}

/** Per-request state. */
export const states = new RequestState<FastifyRequest, FastifySessionState>('tsession.fastify');

/** Opens a fresh session for the same request, as a conflict retry needs. */
export function reopen(request: FastifyRequest, state: FastifySessionState): TSession {
  request.tsession = state.manager.open(state.request);
  return request.tsession;
}

/** A {@link SessionRequest} over a Fastify request; `secure` follows Fastify's `trustProxy` through `request.protocol`. */
export function fastifySessionRequest(request: FastifyRequest): SessionRequest {
  return new NodeSessionRequest(request.method, request.url, request.headers, () => request.protocol === 'https');
}
