import { type SerializeOptions, serialize } from 'cookie';
import { MissingClientIdError, SessionConfigError } from '../errors.js';
import { type Clock, systemClock } from '../time.js';
import { clientKeyOf, IdSigner, isThirdPartyClientKey, type VerifiedId } from './signing.js';
import {
  type ClientIdManager,
  type ClientIdReading,
  cachePreventionHeaders,
  type HeaderEntry,
  type SessionRequest,
} from './types.js';

/** Where, besides the cookie, a {@link CookieClientIdManager} looks for the id, in priority order. */
export type CookieConveyance = 'cookie' | 'url' | 'form';

/** Options of {@link CookieClientIdManager}. Times are in seconds. */
export interface CookieClientIdOptions {
  /** One secret of at least 32 characters, or a list: the first signs, all verify. Required. */
  secret: string | readonly string[];
  /** The cookie's name (before any `prefix`). @default 'tsession' */
  name?: string;
  /**
   * Seconds the cookie lives after it is sent. `undefined` gives a browser-session
   * cookie; `0` a far-future one; N > 0 is re-sent with a fresh expiry each time the
   * session's last-access time is written, so at most once per resolution.
   * @default undefined
   */
  lifetime?: number;
  /** The cookie's Domain attribute. @default undefined (host-only) */
  domain?: string;
  /** The cookie's Path attribute; set it to the app's mount path when mounted. @default '/' */
  path?: string;
  /** The Secure attribute: `'auto'` sets it when the request is HTTPS (as the adapter's proxy trust sees it). @default 'auto' */
  secure?: boolean | 'auto';
  /** The HttpOnly attribute. @default true */
  httpOnly?: boolean;
  /** The SameSite attribute; `'none'` requires `secure`. @default 'lax' */
  sameSite?: 'strict' | 'lax' | 'none';
  /** The Partitioned attribute (CHIPS), for cookies in third-party contexts. @default false */
  partitioned?: boolean;
  /** A cookie name prefix whose rules the browser enforces: `__Host-` (Secure, Path=/, no Domain) or `__Secure-` (Secure). @default undefined */
  prefix?: '__Host-' | '__Secure-';
  /** Issue ids only in answer to POST requests; a GET that needs one fails with `MissingClientIdError`. @default false */
  postOnly?: boolean;
  /**
   * The id is made and set by another party: it is read as sent, never verified,
   * never set, and a request without one fails with `MissingClientIdError`.
   * @default false
   */
  thirdParty?: boolean;
  /**
   * Where to read the id, in priority order; `url` is the query parameter and `form` the
   * form field of the cookie's name. @default ['cookie']
   *
   * Security: an id in a URL travels in links, so anyone can hand a victim a link that
   * carries the attacker's id (session fixation), and it leaks through `Referer`,
   * history and logs. Call `session.regenerate()` at every privilege change (login), and
   * leave {@link CookieClientIdOptions.cookieFromUrlOrForm} off, so such an id is never
   * made the victim's cookie.
   */
  conveyances?: readonly CookieConveyance[];
  /**
   * Re-send an id that arrived by the `url` or `form` conveyance (and not in the cookie, SPEC 46)
   * as a `Set-Cookie`, e.g. when its `lifetime` is refreshed or it was signed by an older
   * secret. Off by default: it would turn a link an attacker made into the victim's
   * lasting cookie, so that fixation needs nothing but a click. Fresh ids issued by this
   * manager are always sent as cookies.
   * @default false
   */
  cookieFromUrlOrForm?: boolean;
  /** Send `Cache-Control: private, no-store` instead of `no-cache="Set-Cookie"` with a new cookie. @default false */
  strictCacheControl?: boolean;
  /** The clock used for cookie expiry. @default the system clock */
  clock?: Clock;
}

/** A far-future expiry for `lifetime: 0`; browsers clamp it to their own maximum (400 days in current ones). */
const FAR_FUTURE = new Date('9999-12-31T23:59:59Z');
/** Same-name cookies tried per request: enough for real path/domain overlaps, bounded against floods (SPEC 47). */
const MAX_SAME_NAME_COOKIES = 4;
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Identifies clients by a signed id in a cookie (Zope's CookieClientIdManager and
 * Zope 2's BrowserIdManager), with the url and form conveyances for clients without
 * cookies.
 *
 * @example
 * ```ts
 * const ids = new CookieClientIdManager({ secret: process.env.SESSION_SECRET!, lifetime: 86400 });
 * ```
 */
export class CookieClientIdManager implements ClientIdManager {
  /** The cookie's full name, prefix included. */
  readonly cookieName: string;
  readonly refreshOnTouch: boolean;
  /** True under `thirdParty`: the other party makes the ids, so an id new to the store is used as sent. */
  readonly adoptsUnknownIds: boolean;
  readonly #signer: IdSigner | undefined;
  readonly #options: Required<Pick<CookieClientIdOptions, 'path' | 'httpOnly' | 'sameSite'>> & CookieClientIdOptions;
  /** Where ids are read, in priority order. */
  readonly conveyances: readonly CookieConveyance[];
  readonly #clock: Clock;

  /** @throws SessionConfigError when an option is missing or contradicts another. */
  constructor(options: CookieClientIdOptions) {
    this.#options = { path: '/', httpOnly: true, sameSite: 'lax', ...options };
    checkCookieOptions(this.#options);
    this.cookieName = `${options.prefix ?? ''}${options.name ?? 'tsession'}`;
    this.#signer = options.thirdParty ? undefined : new IdSigner(options.secret, 'CookieClientIdManager');
    this.conveyances = Object.freeze([...(options.conveyances ?? ['cookie'])]);
    this.#clock = options.clock ?? systemClock;
    this.refreshOnTouch = (options.lifetime ?? 0) > 0 && !options.thirdParty;
    this.adoptsUnknownIds = options.thirdParty === true;
  }

  read(request: SessionRequest): ClientIdReading | undefined {
    for (const source of this.conveyances) {
      for (const raw of this.#candidates(request, source)) {
        const verified = this.#verify(raw);
        if (verified) return { ...verified, source };
      }
    }
    return undefined;
  }

  issue(request: SessionRequest): VerifiedId {
    if (this.#options.thirdParty) {
      throw new MissingClientIdError('this request carries no client id, and a thirdParty id manager never issues one');
    }
    if (this.#options.postOnly && request.method !== 'POST') {
      throw new MissingClientIdError(
        `a ${request.method} request cannot be given a client id under postOnly; start the session from a POST`,
      );
    }
    return (this.#signer as IdSigner).create();
  }

  deliver(request: SessionRequest, id: string): HeaderEntry[] {
    if (this.#options.thirdParty) return [];
    if (!this.#options.cookieFromUrlOrForm && this.#conveyedOutsideCookie(request, id)) return [];
    const cookie = serialize(this.cookieName, id, this.#attributes(request, this.#expiry()));
    return [['Set-Cookie', cookie], ...cachePreventionHeaders(this.#options.strictCacheControl ?? false)];
  }

  revoke(request: SessionRequest): HeaderEntry[] {
    if (this.#options.thirdParty) return [];
    const cookie = serialize(this.cookieName, '', this.#attributes(request, new Date(0)));
    return [['Set-Cookie', cookie], ...cachePreventionHeaders(this.#options.strictCacheControl ?? false)];
  }

  encodeUrl(url: string, id: string): string {
    const hashAt = url.indexOf('#');
    const [base, hash] = hashAt < 0 ? [url, ''] : [url.slice(0, hashAt), url.slice(hashAt)];
    const separator = base.includes('?') ? '&' : '?';
    return `${base}${separator}${encodeURIComponent(this.cookieName)}=${encodeURIComponent(id)}${hash}`;
  }

  hiddenField(id: string): string {
    return `<input type="hidden" name="${escapeAttribute(this.cookieName)}" value="${escapeAttribute(id)}">`;
  }

  /** The ids a conveyance offers, first to last; several cookies of one name are all tried. */
  #candidates(request: SessionRequest, source: CookieConveyance): string[] {
    const one = (value: string | undefined) => (value === undefined ? [] : [value]);
    switch (source) {
      case 'cookie':
        return cookieValues(request.header('cookie'), this.cookieName);
      case 'url':
        return one(queryParameter(request.url, this.cookieName));
      case 'form':
        return one(request.formField?.(this.cookieName));
    }
  }

  /**
   * True when the request carried `id`'s key by url or form and not in a cookie: the id
   * came from a link or a page, which may be an attacker's, so it is not made a cookie.
   * Compares the unsigned key part only: no signature is verified again.
   */
  #conveyedOutsideCookie(request: SessionRequest, id: string): boolean {
    const key = clientKeyOf(id);
    const sameKey = (raw: string) => clientKeyOf(raw) === key;
    const elsewhere = this.conveyances.some((c) => c !== 'cookie' && this.#candidates(request, c).some(sameKey));
    return elsewhere && !this.#candidates(request, 'cookie').some(sameKey);
  }

  #verify(raw: string): VerifiedId | undefined {
    if (this.#signer) return this.#signer.verify(raw);
    return isThirdPartyClientKey(raw) ? { id: raw, key: raw, stale: false } : undefined;
  }

  #expiry(): Date | undefined {
    const { lifetime } = this.#options;
    if (lifetime === undefined) return undefined;
    if (lifetime === 0) return FAR_FUTURE;
    return new Date((this.#clock() + lifetime) * 1000);
  }

  #attributes(request: SessionRequest, expires: Date | undefined): SerializeOptions {
    const o = this.#options;
    const secure = o.secure === 'auto' || o.secure === undefined ? request.secure : o.secure;
    return {
      path: o.prefix === '__Host-' ? '/' : cookiePathOf(request, o.path),
      httpOnly: o.httpOnly,
      sameSite: o.sameSite,
      secure: secure || o.prefix !== undefined || o.sameSite === 'none' || o.partitioned === true,
      ...(o.domain !== undefined && { domain: o.domain }),
      ...(o.partitioned && { partitioned: true }),
      ...(expires && { expires }),
    };
  }
}

/** Characters a cookie's Path attribute may hold (no `;`, no controls, no spaces). */
const SAFE_PATH = /^\/[\x21-\x3a\x3c-\x7e]*$/;

/** The request's mount path when the adapter gives a usable one (a path that cannot be a cookie attribute is ignored), else `fallback`. */
function cookiePathOf(request: SessionRequest, fallback: string): string {
  const path = request.cookiePath;
  return path !== undefined && path !== '' && SAFE_PATH.test(path) ? path : fallback;
}

function checkCookieOptions(o: CookieClientIdOptions & { path: string; sameSite: string }): void {
  const fail = (message: string): never => {
    throw new SessionConfigError(`CookieClientIdManager: ${message}`);
  };
  const name = `${o.prefix ?? ''}${o.name ?? 'tsession'}`;
  if (!COOKIE_NAME.test(name)) fail(`cookie name ${JSON.stringify(name)} is not a valid cookie token`);
  if (o.lifetime !== undefined && !(Number.isFinite(o.lifetime) && o.lifetime >= 0)) {
    fail('`lifetime` must be a number of seconds ≥ 0 (0 = far future), or undefined for a browser-session cookie');
  }
  if (!o.path.startsWith('/')) fail('`path` must start with "/"');
  try {
    // the cookie serializer refuses a bad domain or path: find out now, not on the first request
    serialize(name, 'x', { path: o.path, ...(o.domain !== undefined && { domain: o.domain }) });
  } catch (error) {
    fail(`${(error as Error).message}; \`domain\` is a host name like "example.com", \`path\` a URL path like "/app"`);
  }
  if (!['strict', 'lax', 'none'].includes(o.sameSite)) fail("`sameSite` must be 'strict', 'lax' or 'none'");
  if (o.sameSite === 'none' && o.secure === false)
    fail("`sameSite: 'none'` requires `secure` (browsers drop such cookies)");
  if (o.prefix !== undefined && o.secure === false) fail(`the ${o.prefix} prefix requires \`secure\``);
  if (o.prefix === '__Host-' && o.domain !== undefined) fail('the __Host- prefix forbids `domain`');
  if (o.prefix === '__Host-' && o.path !== '/') fail('the __Host- prefix requires `path: "/"`');
  if (o.partitioned && o.secure === false) fail('`partitioned` requires `secure`');
  if (o.thirdParty && o.postOnly)
    fail('`thirdParty` and `postOnly` exclude each other: a third-party id is never issued here');
  for (const c of o.conveyances ?? []) {
    if (!['cookie', 'url', 'form'].includes(c))
      fail(`unknown conveyance ${JSON.stringify(c)}; use 'cookie', 'url' or 'form'`);
  }
}

/**
 * Every value of the cookie `name` in a Cookie header, in order (at most
 * {@link MAX_SAME_NAME_COOKIES}). A browser sends a cookie of a more specific path or of
 * a parent domain under the same name, so a stale or planted one must not hide the
 * valid id behind it. Scans the header in place rather than splitting it: it runs on
 * every request, and the header usually carries other cookies too.
 */
function cookieValues(header: string | undefined, name: string): string[] {
  if (header === undefined) return NO_VALUES;
  let values: string[] | undefined;
  let at = 0;
  while (at < header.length) {
    let end = header.indexOf(';', at);
    if (end < 0) end = header.length;
    const eq = header.indexOf('=', at);
    if (eq >= 0 && eq < end && header.slice(at, eq).trim() === name) {
      (values ??= []).push(cookieValue(header.slice(eq + 1, end).trim()));
      if (values.length === MAX_SAME_NAME_COOKIES) break;
    }
    at = end + 1;
  }
  return values ?? NO_VALUES;
}

const NO_VALUES: string[] = [];

/** A cookie value as the `cookie` package decodes it: quotes dropped, `%` escapes decoded when valid. */
function cookieValue(raw: string): string {
  const unquoted = raw.length > 1 && raw[0] === '"' && raw[raw.length - 1] === '"' ? raw.slice(1, -1) : raw;
  if (!unquoted.includes('%')) return unquoted;
  try {
    return decodeURIComponent(unquoted);
  } catch {
    return unquoted;
  }
}

function queryParameter(url: string, name: string): string | undefined {
  const at = url.indexOf('?');
  if (at < 0) return undefined;
  return new URLSearchParams(url.slice(at + 1)).get(name) ?? undefined;
}

function escapeAttribute(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
