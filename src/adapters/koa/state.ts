import type { OutgoingHttpHeaders } from 'node:http';
import type { Context } from 'koa';
import type { SessionRequest } from '../../client-id/types.js';
import type { SessionManager } from '../../session/manager.js';
import { NodeSessionRequest } from '../shared/node-request.js';

/** What the middleware keeps per request, under a symbol so it never meets user data. */
export interface KoaSessionState {
  readonly manager: SessionManager;
  readonly request: SessionRequest;
}

export const STATE = Symbol('tsession.koa');

type WithState = Context & { [STATE]?: KoaSessionState };

export function stateOf(ctx: Context): KoaSessionState | undefined {
  return (ctx as WithState)[STATE];
}

export function setState(ctx: Context, state: KoaSessionState): void {
  (ctx as WithState)[STATE] = state;
}

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

/** The response as it was before a handler ran. */
export interface KoaResponseSnapshot {
  readonly status: number;
  readonly explicitStatus: boolean | undefined;
  readonly headers: OutgoingHttpHeaders;
}

export function snapshotResponse(ctx: Context): KoaResponseSnapshot {
  const internals = ctx.response as unknown as KoaResponseInternals;
  return { status: ctx.res.statusCode, explicitStatus: internals._explicitStatus, headers: ctx.res.getHeaders() };
}

/** Forgets the body, status and headers a handler run set, for a conflict retry. */
export function restoreResponse(ctx: Context, snap: KoaResponseSnapshot): void {
  const internals = ctx.response as unknown as KoaResponseInternals;
  for (const name of ctx.res.getHeaderNames()) ctx.res.removeHeader(name);
  for (const [name, value] of Object.entries(snap.headers)) {
    if (value !== undefined) ctx.res.setHeader(name, value);
  }
  internals._body = undefined;
  internals._explicitNullBody = undefined;
  internals._explicitStatus = snap.explicitStatus;
  ctx.res.statusCode = snap.status;
}
