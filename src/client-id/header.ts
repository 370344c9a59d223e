import { SessionConfigError } from '../errors.js';
import { IdSigner, type VerifiedId } from './signing.js';
import {
  type ClientIdManager,
  type ClientIdReading,
  cachePreventionHeaders,
  type HeaderEntry,
  type SessionRequest,
} from './types.js';

/** Options of {@link HeaderClientIdManager}. */
export interface HeaderClientIdOptions {
  /** One secret of at least 32 characters, or a list: the first signs, all verify. Required. */
  secret: string | readonly string[];
  /**
   * The request header that carries the id. With `'authorization'` the id is read
   * from `Authorization: Session <id>` (the scheme is {@link HeaderClientIdOptions.scheme}).
   * @default 'session-id'
   */
  header?: string;
  /** The Authorization scheme, when `header` is `'authorization'`. @default 'Session' */
  scheme?: string;
  /** The response header that hands a new id to the client. @default 'Session-Id' */
  responseHeader?: string;
}

const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Identifies API clients by a signed id in a request header, and hands new ids out
 * in a response header. The client stores the id and sends it back itself.
 *
 * @example
 * ```ts
 * const ids = new HeaderClientIdManager({ secret, header: 'authorization' });
 * // client: Authorization: Session <id from the Session-Id response header>
 * ```
 */
export class HeaderClientIdManager implements ClientIdManager {
  readonly refreshOnTouch = false;
  readonly #signer: IdSigner;
  readonly #header: string;
  readonly #scheme: string;
  readonly #responseHeader: string;

  /** @throws SessionConfigError when the secret is missing or short, or a header name is invalid. */
  constructor(options: HeaderClientIdOptions) {
    this.#signer = new IdSigner(options.secret, 'HeaderClientIdManager');
    this.#header = (options.header ?? 'session-id').toLowerCase();
    this.#scheme = options.scheme ?? 'Session';
    this.#responseHeader = options.responseHeader ?? 'Session-Id';
    for (const name of [this.#header, this.#responseHeader]) {
      if (!HEADER_NAME.test(name)) {
        throw new SessionConfigError(`HeaderClientIdManager: ${JSON.stringify(name)} is not a valid header name`);
      }
    }
  }

  read(request: SessionRequest): ClientIdReading | undefined {
    const raw = request.header(this.#header)?.trim();
    if (raw === undefined) return undefined;
    const verified = this.#signer.verify(this.#header === 'authorization' ? this.#credentials(raw) : raw);
    return verified && { ...verified, source: 'header' };
  }

  issue(): VerifiedId {
    return this.#signer.create();
  }

  deliver(_request: SessionRequest, id: string): HeaderEntry[] {
    return [[this.#responseHeader, id], ...cachePreventionHeaders(true)];
  }

  revoke(): HeaderEntry[] {
    return [[this.#responseHeader, ''], ...cachePreventionHeaders(true)];
  }

  #credentials(authorization: string): string | undefined {
    const space = authorization.indexOf(' ');
    if (space < 0 || authorization.slice(0, space).toLowerCase() !== this.#scheme.toLowerCase()) {
      return undefined;
    }
    return authorization.slice(space + 1).trim();
  }
}
