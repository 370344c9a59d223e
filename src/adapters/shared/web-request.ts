import type { HeaderEntry, SessionRequest } from '../../client-id/types.js';
import type { Session } from '../../session/session.js';
import { errorAnswer } from './errors.js';
import { formValue, forwardedProto } from './node-request.js';

/** What {@link webSessionRequest} is told beyond the request itself. */
export interface WebRequestOptions {
  /** Believe `X-Forwarded-Proto` (for the cookie's Secure default). @default false */
  readonly trustProxy?: boolean | undefined;
  /** The path of the id's cookie (the app's mount path). @default the id manager's own `path` */
  readonly cookiePath?: string | undefined;
  /** The request's form body, read beforehand ({@link readForm}), for the `form` conveyance. */
  readonly form?: FormData | undefined;
}

/**
 * A {@link SessionRequest} over a Web-standard `Request`: a class whose fields are read
 * when the core asks (`secure` and the path once), not an object of closures, and with
 * no `new URL()` per request: the request's URL is absolute, so its path and scheme are
 * plain slices of it.
 */
class WebSessionRequest implements SessionRequest {
  readonly method: string;
  readonly cookiePath: string | undefined;
  readonly #request: Request;
  readonly #trustProxy: boolean;
  readonly #form: FormData | undefined;
  #url: string | undefined;
  #secure: boolean | undefined;

  constructor(request: Request, options: WebRequestOptions) {
    this.method = request.method;
    this.cookiePath = options.cookiePath;
    this.#request = request;
    this.#trustProxy = options.trustProxy === true;
    this.#form = options.form;
  }

  /** The path and query of the request's URL (no fragment). */
  get url(): string {
    this.#url ??= pathAndQuery(this.#request.url);
    return this.#url;
  }

  get secure(): boolean {
    this.#secure ??=
      this.#request.url.startsWith('https:') ||
      (this.#trustProxy && forwardedProto(this.#request.headers.get('x-forwarded-proto')) === 'https');
    return this.#secure;
  }

  header(name: string): string | undefined {
    return this.#request.headers.get(name) ?? undefined;
  }

  formField(name: string): string | undefined {
    return formValue(this.#form, name);
  }
}

/** `/path?query` of an absolute URL such as `Request.url`: the text after the authority, without the fragment. */
function pathAndQuery(absolute: string): string {
  const authority = absolute.indexOf('//');
  const start = absolute.indexOf('/', authority < 0 ? 0 : authority + 2);
  if (start < 0) return '/';
  const hash = absolute.indexOf('#', start);
  return hash < 0 ? absolute.slice(start) : absolute.slice(start, hash);
}

/** A {@link SessionRequest} over a Web-standard `Request`. */
export function webSessionRequest(request: Request, options: WebRequestOptions = {}): SessionRequest {
  return new WebSessionRequest(request, options);
}

/**
 * The form body of a POST with a form content type, read from a clone so the handler
 * can still read the request's body; undefined for any other request, or a body that
 * does not parse. Adapters call it only when the id manager conveys ids in forms.
 */
export async function readForm(request: Request): Promise<FormData | undefined> {
  const type = request.headers.get('content-type') ?? '';
  if (request.method !== 'POST' || !/^(application\/x-www-form-urlencoded|multipart\/form-data)/i.test(type)) {
    return undefined;
  }
  try {
    return await request.clone().formData();
  } catch {
    return undefined;
  }
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
