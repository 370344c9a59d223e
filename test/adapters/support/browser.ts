/** A minimal browser for the adapter suite: global fetch, a cookie jar kept by hand, no redirects followed. */

/** A Set-Cookie header as a browser parses it. */
export interface ParsedCookie {
  readonly name: string;
  readonly value: string;
  /** Attribute names lower-cased; flags map to ''. */
  readonly attributes: ReadonlyMap<string, string>;
}

/** One answer, its body read. */
export interface Answer {
  readonly status: number;
  readonly body: string;
  readonly headers: Headers;
  readonly setCookies: readonly ParsedCookie[];
}

export function parseSetCookie(header: string): ParsedCookie {
  const [pair = '', ...rest] = header.split(';');
  const at = pair.indexOf('=');
  const attributes = new Map<string, string>();
  for (const part of rest) {
    const eq = part.indexOf('=');
    const name = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase();
    attributes.set(name, eq < 0 ? '' : part.slice(eq + 1).trim());
  }
  return { name: pair.slice(0, at).trim(), value: decodeURIComponent(pair.slice(at + 1).trim()), attributes };
}

/** True when a browser would delete the cookie at once. */
export function isExpired(cookie: ParsedCookie): boolean {
  const maxAge = cookie.attributes.get('max-age');
  if (maxAge !== undefined) return Number(maxAge) <= 0;
  const expires = cookie.attributes.get('expires');
  return expires !== undefined && Date.parse(expires) <= Date.now();
}

export class Browser {
  readonly #base: string;
  readonly #jar = new Map<string, string>();

  /** `cookie` seeds the jar from a Cookie header value, e.g. one saved earlier. */
  constructor(base: string, cookie = '') {
    this.#base = base;
    for (const pair of cookie.split(';')) {
      const at = pair.indexOf('=');
      if (at > 0) this.#jar.set(pair.slice(0, at).trim(), pair.slice(at + 1).trim());
    }
  }

  /** The Cookie header this browser sends. */
  cookieHeader(): string {
    return [...this.#jar].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  get(path: string, headers: Record<string, string> = {}): Promise<Answer> {
    return this.request('GET', path, headers);
  }

  post(path: string, headers: Record<string, string> = {}): Promise<Answer> {
    return this.request('POST', path, headers);
  }

  async request(method: string, path: string, headers: Record<string, string> = {}): Promise<Answer> {
    const cookie = this.cookieHeader();
    const response = await fetch(this.#base + path, {
      method,
      redirect: 'manual',
      headers: { ...(cookie && { cookie }), ...headers },
    });
    const body = await response.text();
    const setCookies = response.headers.getSetCookie().map(parseSetCookie);
    for (const c of setCookies) {
      if (isExpired(c)) this.#jar.delete(c.name);
      else this.#jar.set(c.name, encodeURIComponent(c.value));
    }
    return { status: response.status, body, headers: response.headers, setCookies };
  }
}
