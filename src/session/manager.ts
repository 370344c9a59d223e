import type { ClientIdManager, SessionRequest } from '../client-id/types.js';
import type { SessionDataContainer } from '../container/container.js';
import { SessionConfigError } from '../errors.js';
import type { ScannedSession } from '../stores/types.js';
import { boundFingerprint } from './container-state.js';
import { packageIdProblem } from './names.js';
import { PackageDefinition } from './package-definition.js';
import { recordsOfPrincipal } from './principals.js';
import { Session, type SessionContext } from './session.js';

/** One session of a user, as {@link SessionManager.sessionsOf} lists it. Times are seconds since the epoch. */
export interface PrincipalSession {
  /** The session's client key (the store's key; not the signed id the client holds). */
  readonly clientKey: string;
  readonly createdAt: number;
  readonly lastAccess: number;
  /** When the store drops it; `null`: never. */
  readonly expiresAt: number | null;
  /** The fingerprint (client class) the session is bound to, when sessions are bound. */
  readonly fingerprint?: string;
}

/** Options of {@link SessionManager.endSessionsOf}. */
export interface EndSessionsOptions {
  /** A client key to spare, e.g. the session of the request asking ("log out my other devices"). */
  except?: string;
}

/** Options of {@link SessionManager}. */
export interface SessionManagerOptions {
  /** Reads and issues client ids, e.g. `new CookieClientIdManager({ secret })`. */
  clientIds: ClientIdManager;
  /** Serves every package id that has no container of its own. */
  container: SessionDataContainer;
  /** Containers by package id, e.g. `{ 'products.cart': cartContainer }`. @default {} */
  containers?: Readonly<Record<string, SessionDataContainer>>;
  /**
   * Binds each session to a fingerprint of the client that started it, e.g.
   * {@link userAgentClass}. A request whose fingerprint differs is treated as having no
   * session: it reads empty data, a write starts a new session under a fresh id, and its
   * `invalidate()` or `regenerate()` leaves the bound session untouched, so a cookie stolen
   * into another kind of client is worth less. A session made before binding was turned on
   * is bound by the first client that uses it (even a read). Off by default: a
   * fingerprint is a speed bump, not an authentication.
   * @default undefined
   */
  fingerprint?: (request: SessionRequest) => string;
  /**
   * Validated packages, from {@link definePackage}: their values are checked against their
   * schemas before commit and when read from the store, whether the package is used through
   * its definition (`session.get(cart)`, typed from the schemas) or its id.
   * @default []
   */
  packages?: readonly PackageDefinition[];
}

/**
 * Holds the id manager, the default container and the named ones, and opens one
 * {@link Session} per request. Opening is free: nothing is read until the session is used.
 *
 * @example
 * ```ts
 * const manager = new SessionManager({
 *   clientIds: new CookieClientIdManager({ secret: process.env.SESSION_SECRET! }),
 *   container: new SessionDataContainer({ store: new SqliteStore({ path: './data/sessions.db' }) }),
 * });
 * ```
 */
export class SessionManager implements SessionContext {
  readonly clientIds: ClientIdManager;
  readonly containers: readonly SessionDataContainer[];
  readonly fingerprint: ((request: SessionRequest) => string) | undefined;
  /** @internal The validated packages by id; undefined when there are none, so nothing is looked up. */
  readonly definitions: ReadonlyMap<string, PackageDefinition> | undefined;
  readonly #default: SessionDataContainer;
  readonly #named: ReadonlyMap<string, SessionDataContainer>;

  /** @throws SessionConfigError when a part is missing. */
  constructor(options: SessionManagerOptions) {
    if (!options?.clientIds) {
      throw new SessionConfigError('SessionManager needs `clientIds`, e.g. `new CookieClientIdManager({ secret })`');
    }
    if (!options.container) {
      throw new SessionConfigError(
        'SessionManager needs a default `container`, e.g. `new SessionDataContainer({ store })`',
      );
    }
    this.clientIds = options.clientIds;
    this.#default = options.container;
    this.#named = new Map(Object.entries(options.containers ?? {}));
    this.containers = [...new Set([options.container, ...this.#named.values()])];
    this.fingerprint = options.fingerprint;
    this.definitions = definitionsById(options.packages ?? []);
  }

  /** A session for this request. No I/O happens until it is used. */
  open(request: SessionRequest): Session {
    return Session.open(this, request);
  }

  /** The container serving `pkg`: the one registered under that name, else the default (SPEC 22). */
  containerFor(pkg: string): SessionDataContainer {
    return this.#named.get(pkg) ?? this.#default;
  }

  /**
   * The live sessions of a user (see `Session.setPrincipal`), oldest first, from the
   * default container's store index: the cost is that user's sessions, not the store's.
   * @throws SessionNameError for an invalid user id; StoreUnsupportedError when the default
   *   container's store cannot index principals (`capabilities.principals`, e.g. `ConnectStore`).
   */
  async sessionsOf(userId: string): Promise<PrincipalSession[]> {
    const records = await this.#recordsOf(userId);
    const container = this.#default;
    return records.map((record) => {
      const fingerprint = boundFingerprint(container, record);
      return {
        clientKey: record.key,
        createdAt: record.createdAt,
        lastAccess: record.lastAccess,
        expiresAt: record.expiresAt,
        ...(fingerprint !== undefined && { fingerprint }),
      };
    });
  }

  /**
   * Ends every live session of a user ("log out everywhere"), but `options.except`, in
   * every container, with `onEnd` reason `'invalidated'`: each is deleted at once, so
   * every process sees it gone, and a slower request that loaded it fails its commit with
   * `ConflictError('gone')` instead of bringing it back. Resolves how many were ended.
   * @throws as {@link sessionsOf}.
   */
  async endSessionsOf(userId: string, options: EndSessionsOptions = {}): Promise<number> {
    const records = await this.#recordsOf(userId);
    const doomed = records.filter((r) => r.key !== options.except);
    const ended = await Promise.all(
      doomed.map(async ({ key }) => {
        const destroyed = await Promise.all(this.containers.map((c) => c.destroy(key, 'invalidated')));
        return destroyed[0] === true;
      }),
    );
    return ended.filter(Boolean).length;
  }

  /** The user's live records in the default container, expiry applied as `load` applies it. */
  async #recordsOf(userId: string): Promise<ScannedSession[]> {
    const container = this.#default;
    const now = container.clock();
    const records = await recordsOfPrincipal(container.store, container.codec, userId, now);
    return records.filter((r) => !container.isExpired(r, now));
  }

  /** Sweeps every container; resolves the number of records removed. */
  async sweep(): Promise<number> {
    const counts = await Promise.all(this.containers.map((c) => c.sweep()));
    return counts.reduce((a, b) => a + b, 0);
  }

  /** Stops every container's sweep timer and closes their stores. */
  async close(): Promise<void> {
    for (const container of this.containers) container.close();
    await Promise.all([...new Set(this.containers.map((c) => c.store))].map((s) => s.close()));
  }
}

function definitionsById(packages: readonly PackageDefinition[]): ReadonlyMap<string, PackageDefinition> | undefined {
  if (!Array.isArray(packages))
    throw new SessionConfigError('SessionManager: `packages` must be an array of definePackage() results');
  if (packages.length === 0) return undefined;
  const byId = new Map<string, PackageDefinition>();
  for (const definition of packages) {
    if (!(definition instanceof PackageDefinition)) {
      throw new SessionConfigError('SessionManager: every entry of `packages` must come from definePackage()');
    }
    const problem = packageIdProblem(definition.id);
    if (problem !== undefined) throw new SessionConfigError(`SessionManager: in \`packages\`: ${problem}`);
    if (byId.has(definition.id))
      throw new SessionConfigError(`SessionManager: the package '${definition.id}' is defined twice in \`packages\``);
    byId.set(definition.id, definition);
  }
  return byId;
}
