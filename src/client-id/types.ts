import type { VerifiedId } from './signing.js';

/**
 * What the core needs to know of an HTTP request. Adapters build one per request;
 * the core never sees a framework's request object.
 */
export interface SessionRequest {
  /** The HTTP method, upper-case. */
  readonly method: string;
  /** The request target: path and query, e.g. `/cart?x=1`. */
  readonly url: string;
  /** True when the client reached the app over HTTPS (directly, or through a trusted proxy). */
  readonly secure: boolean;
  /** A request header by lower-case name; several values joined as the header's syntax wants. */
  header(name: string): string | undefined;
  /** A field of the parsed form body, when the adapter has one (for the `form` conveyance). */
  formField?(name: string): string | undefined;
  /**
   * The path the app is mounted under (e.g. `/shop`), when the adapter was told to scope
   * the id's cookie to it; the id manager's own `path` otherwise.
   */
  readonly cookiePath?: string | undefined;
}

/** A response header as a name and a value. `Set-Cookie` may appear more than once. */
export type HeaderEntry = readonly [name: string, value: string];

/** Where a request's client id came from. */
export type ClientIdSource = 'cookie' | 'header' | 'url' | 'form';

/** A client id read from a request. */
export interface ClientIdReading extends VerifiedId {
  source: ClientIdSource;
}

/**
 * Reads client ids from requests, issues new ones, and says which headers deliver
 * or revoke them (Zope's IClientIdManager). {@link CookieClientIdManager} is the
 * default; {@link HeaderClientIdManager} serves API clients.
 */
export interface ClientIdManager {
  /** The verified id the request carries, or undefined when it has none that verifies. */
  read(request: SessionRequest): ClientIdReading | undefined;
  /** A new id for this request. Throws `MissingClientIdError` when the request may not get one. */
  issue(request: SessionRequest): VerifiedId;
  /** Headers that hand `id` to the client, cache-prevention headers included. */
  deliver(request: SessionRequest, id: string): HeaderEntry[];
  /** Headers that make the client forget its id (after `invalidate()`). */
  revoke(request: SessionRequest): HeaderEntry[];
  /**
   * True when an id the store does not know is used as sent instead of being replaced
   * by a fresh one (SPEC 21): ids made by another party (`thirdParty`), which this
   * manager can never issue. @default false
   */
  readonly adoptsUnknownIds?: boolean;
  /** True when a known id must be re-sent whenever its session's last-access time is written (cookie `lifetime` > 0). */
  readonly refreshOnTouch: boolean;
  /** Where the manager reads ids from, when it reads more than headers: adapters check they can serve each. */
  readonly conveyances?: readonly ClientIdSource[];
  /** Appends the id to a URL, for the `url` conveyance. Absent when the manager has none. */
  encodeUrl?(url: string, id: string): string;
  /** A hidden form field carrying the id, for the `form` conveyance. */
  hiddenField?(id: string): string;
}

/** Cache-prevention headers sent with every response that delivers an id, so no shared cache hands one id to many users. */
export function cachePreventionHeaders(strict: boolean): HeaderEntry[] {
  return [
    ['Cache-Control', strict ? 'private, no-store' : 'no-cache="Set-Cookie, Set-Cookie2"'],
    ['Pragma', 'no-cache'],
    ['Expires', 'Thu, 01 Jan 1970 00:00:00 GMT'],
  ];
}
