import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { SessionRequest } from '../../client-id/types.js';
import type { SessionManager } from '../../session/manager.js';
import { errorAnswer } from '../shared/errors.js';
import { RequestState } from '../shared/request-state.js';

/** What the middleware keeps per request. */
export interface HonoSessionState {
  readonly manager: SessionManager;
  readonly request: SessionRequest;
}

/** Per-request state. */
export const states = new RequestState<Context, HonoSessionState>('tsession.hono');

/** A failed commit as Hono's error path expects it: an HTTPException with the status, the error as cause. */
export function sessionError(error: unknown): HTTPException {
  const { status, message } = errorAnswer(error);
  return new HTTPException(status as ContentfulStatusCode, { message, cause: error });
}
