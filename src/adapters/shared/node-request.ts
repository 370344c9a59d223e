import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { SessionRequest } from '../../client-id/types.js';

/** Whether to believe `X-Forwarded-Proto` from the peer: true, false, or a function of the request. */
export type TrustProxy = boolean | ((request: IncomingMessage) => boolean);

/**
 * How an adapter answers what only its framework knows of a request: shared by all its
 * requests (one object per adapter, not closures per request).
 */
export interface RequestAccess<S> {
  /** True when the client reached the app over HTTPS, as the framework's proxy trust sees it. */
  secure(source: S): boolean;
  /** The parsed form body a body parser left, for the `form` conveyance. */
  body?(source: S): unknown;
}

/**
 * A {@link SessionRequest} over Node-style headers, shared by the node:http, Express,
 * Fastify and Koa adapters. `secure` is asked of the framework on first use only.
 * A class, not an object literal with a getter: V8 gives every such literal a map of
 * its own, which on a per-request object costs old-generation garbage collections.
 */
export class NodeSessionRequest<S = unknown> implements SessionRequest {
  readonly method: string;
  readonly url: string;
  readonly cookiePath: string | undefined;
  readonly #headers: IncomingHttpHeaders;
  readonly #source: S;
  readonly #access: RequestAccess<S>;
  #secure: boolean | undefined;

  constructor(
    method: string,
    url: string,
    headers: IncomingHttpHeaders,
    source: S,
    access: RequestAccess<S>,
    cookiePath?: string,
  ) {
    this.method = method;
    this.url = url;
    this.#headers = headers;
    this.#source = source;
    this.#access = access;
    this.cookiePath = cookiePath;
  }

  get secure(): boolean {
    this.#secure ??= this.#access.secure(this.#source);
    return this.#secure;
  }

  header(name: string): string | undefined {
    const value = this.#headers[name];
    return Array.isArray(value) ? value.join(name === 'cookie' ? '; ' : ', ') : value;
  }

  formField(name: string): string | undefined {
    return formValue(this.#access.body?.(this.#source), name);
  }
}

/** A string field of a parsed form body (an object, a `URLSearchParams` or a `FormData`), else undefined. */
export function formValue(body: unknown, name: string): string | undefined {
  if (body === null || typeof body !== 'object') return undefined;
  if (typeof (body as URLSearchParams).get === 'function') {
    const value = (body as URLSearchParams).get(name);
    return typeof value === 'string' ? value : undefined;
  }
  const value = Object.hasOwn(body, name) ? (body as Record<string, unknown>)[name] : undefined;
  return typeof value === 'string' ? value : undefined;
}

/** What node:http knows of a request: TLS, and `X-Forwarded-Proto` when trusted; the app's own reader of a parsed form. */
export interface NodeRequestOptions {
  readonly trustProxy?: TrustProxy | undefined;
  readonly formField?: ((req: IncomingMessage, name: string) => string | undefined) | undefined;
}

/** The access of node:http requests under `options`. */
export function nodeRequestAccess(options: NodeRequestOptions): RequestAccess<IncomingMessage> {
  const trustProxy = options.trustProxy ?? false;
  const formField = options.formField;
  return {
    secure: (req) => isSecure(req, trustProxy),
    ...(formField && { body: (req: IncomingMessage) => ({ get: (name: string) => formField(req, name) }) }),
  };
}

/** A {@link SessionRequest} over a node:http request. */
export function nodeSessionRequest(req: IncomingMessage, access: RequestAccess<IncomingMessage>): SessionRequest {
  return new NodeSessionRequest(req.method ?? 'GET', req.url ?? '/', req.headers, req, access);
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
