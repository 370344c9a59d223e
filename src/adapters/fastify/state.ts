import type { FastifyRequest } from 'fastify';
import type { SessionRequest } from '../../client-id/types.js';
import type { SessionManager } from '../../session/manager.js';
import type { Session as TSession } from '../../session/session.js';
import { NodeSessionRequest } from '../shared/node-request.js';

/** What the plugin keeps per request, under a symbol so it never meets user data. */
export interface FastifySessionState {
  readonly manager: SessionManager;
  readonly request: SessionRequest;
}

export const STATE = Symbol('tsession.fastify');

type WithState = FastifyRequest & { [STATE]?: FastifySessionState };

export function stateOf(request: FastifyRequest): FastifySessionState | undefined {
  return (request as WithState)[STATE];
}

export function setState(request: FastifyRequest, state: FastifySessionState): void {
  (request as WithState)[STATE] = state;
}

/** Opens a fresh session for the same request, as a conflict retry needs. */
export function reopen(request: FastifyRequest, state: FastifySessionState): TSession {
  request.tsession = state.manager.open(state.request);
  return request.tsession;
}

/** A {@link SessionRequest} over a Fastify request; `secure` follows Fastify's `trustProxy` through `request.protocol`. */
export function fastifySessionRequest(request: FastifyRequest): SessionRequest {
  return new NodeSessionRequest(request.method, request.url, request.headers, () => request.protocol === 'https');
}
