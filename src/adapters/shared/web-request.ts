import type { HeaderEntry, SessionRequest } from '../../client-id/types.js';
import type { Session } from '../../session/session.js';
import { errorAnswer } from './errors.js';
import { forwardedProto } from './node-request.js';

/** A {@link SessionRequest} over a Web-standard `Request`. */
export function webSessionRequest(request: Request, trustProxy = false): SessionRequest {
  const url = new URL(request.url);
  return {
    method: request.method,
    url: url.pathname + url.search,
    secure:
      url.protocol === 'https:' || (trustProxy && forwardedProto(request.headers.get('x-forwarded-proto')) === 'https'),
    header: (name) => request.headers.get(name) ?? undefined,
  };
}

/** The response with the session's headers added (a copy: a `Response`'s own headers may be immutable). */
export function withSessionHeaders(response: Response, headers: readonly HeaderEntry[]): Response {
  if (headers.length === 0) return response;
  const out = new Response(response.body, response);
  for (const [name, value] of headers) {
    if (name.toLowerCase() === 'set-cookie') out.headers.append(name, value);
    else out.headers.set(name, value);
  }
  return out;
}

/** Commits the session if it is still open, and returns the response carrying its headers. */
export async function commitToResponse(session: Session, response: Response): Promise<Response> {
  const headers = session.isOpen ? session.finish() : session.responseHeaders;
  return withSessionHeaders(response, headers instanceof Promise ? await headers : headers);
}

/** A plain-text answer for an error, as {@link errorAnswer} maps it. */
export function errorResponse(error: unknown): Response {
  const { status, message } = errorAnswer(error);
  return new Response(message, {
    status,
    headers: { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' },
  });
}
