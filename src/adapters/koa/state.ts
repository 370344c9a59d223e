import type { Context } from 'koa';
import type { SessionRequest } from '../../client-id/types.js';
import type { SessionManager } from '../../session/manager.js';
import { NodeSessionRequest } from '../shared/node-request.js';
import { type ResponseSnapshot, restoreResponse, snapshotResponse } from '../shared/node-response.js';
import { RequestState } from '../shared/request-state.js';

/** What the middleware keeps per request */
export interface KoaSessionState {
  readonly manager: SessionManager;
  readonly request: SessionRequest;
}

/** Per-request state. */
export const states = new RequestState<Context, KoaSessionState>('tsession.koa');

/** A {@link SessionRequest} over a Koa context; `secure` follows `ctx.secure`, so `app.proxy` decides. */
export function koaSessionRequest(ctx: Context): SessionRequest {
  return new NodeSessionRequest(ctx.method, ctx.originalUrl, ctx.headers, () => ctx.secure);
}

/** Koa's response state that a handler run changes; its field names are the same in Koa 2 and 3. */
interface KoaResponseInternals {
  _body: unknown;
  _explicitStatus?: boolean | undefined;
  _explicitNullBody?: boolean | undefined;
}

/** The response as it was before a handler ran: the node response's, and Koa's own status flag. */
export interface KoaResponseSnapshot extends ResponseSnapshot {
  readonly explicitStatus: boolean | undefined;
}

/** The response as a handler is about to find it, for a retry to return to. */
export function snapshotKoaResponse(ctx: Context): KoaResponseSnapshot {
  const internals = ctx.response as unknown as KoaResponseInternals;
  return { ...snapshotResponse(ctx.res), explicitStatus: internals._explicitStatus };
}

/** Forgets the body, status and headers a handler run set, for a conflict retry. */
export function restoreKoaResponse(ctx: Context, snap: KoaResponseSnapshot): void {
  const internals = ctx.response as unknown as KoaResponseInternals;
  restoreResponse(ctx.res, snap);
  internals._body = undefined;
  internals._explicitNullBody = undefined;
  internals._explicitStatus = snap.explicitStatus;
}
