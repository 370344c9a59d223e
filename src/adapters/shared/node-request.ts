import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { SessionRequest } from '../../client-id/types.js';

/** Whether to believe `X-Forwarded-Proto` from the peer: true, false, or a function of the request. */
export type TrustProxy = boolean | ((request: IncomingMessage) => boolean);

/**
 * A {@link SessionRequest} over a node:http request. `secure` defaults to the socket's
 * TLS state or a trusted `X-Forwarded-Proto`; a framework passes its own judgement
 * (e.g. Express's `req.secure`) instead.
 */
export function nodeSessionRequest(
  req: IncomingMessage,
  trustProxy: TrustProxy = false,
  secure: () => boolean = () => isSecure(req, trustProxy),
): SessionRequest {
  return {
    method: req.method ?? 'GET',
    url: req.url ?? '/',
    get secure() {
      return secure();
    },
    header(name) {
      const value = req.headers[name];
      return Array.isArray(value) ? value.join(name === 'cookie' ? '; ' : ', ') : value;
    },
  };
}

function isSecure(req: IncomingMessage, trustProxy: TrustProxy): boolean {
  if ((req.socket as Partial<TLSSocket>).encrypted) return true;
  const trusted = typeof trustProxy === 'function' ? trustProxy(req) : trustProxy;
  return trusted && forwardedProto(req.headers['x-forwarded-proto']) === 'https';
}

/** The protocol the client used, from the first (client-side) value of X-Forwarded-Proto. */
export function forwardedProto(header: string | string[] | undefined | null): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  return value?.split(',')[0]?.trim().toLowerCase();
}
