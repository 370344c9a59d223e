import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { SessionRequest } from '../../client-id/types.js';

/** Whether to believe `X-Forwarded-Proto` from the peer: true, false, or a function of the request. */
export type TrustProxy = boolean | ((request: IncomingMessage) => boolean);

/**
 * A {@link SessionRequest} over Node-style headers, shared by the node:http, Express,
 * Fastify and Koa adapters. `secure` is asked of the framework on first use only.
 * A class, not an object literal with a getter: V8 gives every such literal a map of
 * its own, which on a per-request object costs old-generation garbage collections.
 */
export class NodeSessionRequest implements SessionRequest {
  readonly method: string;
  readonly url: string;
  readonly #headers: IncomingHttpHeaders;
  readonly #isSecure: () => boolean;
  #secure: boolean | undefined;

  constructor(method: string, url: string, headers: IncomingHttpHeaders, isSecure: () => boolean) {
    this.method = method;
    this.url = url;
    this.#headers = headers;
    this.#isSecure = isSecure;
  }

  get secure(): boolean {
    this.#secure ??= this.#isSecure();
    return this.#secure;
  }

  header(name: string): string | undefined {
    const value = this.#headers[name];
    return Array.isArray(value) ? value.join(name === 'cookie' ? '; ' : ', ') : value;
  }
}

/** A {@link SessionRequest} over a node:http request. */
export function nodeSessionRequest(req: IncomingMessage, trustProxy: TrustProxy = false): SessionRequest {
  return new NodeSessionRequest(req.method ?? 'GET', req.url ?? '/', req.headers, () => isSecure(req, trustProxy));
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
