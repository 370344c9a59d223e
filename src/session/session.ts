import type { VerifiedId } from '../client-id/signing.js';
import type {
  ClientIdManager,
  ClientIdReading,
  ClientIdSource,
  HeaderEntry,
  SessionRequest,
} from '../client-id/types.js';
import type { SessionDataContainer } from '../container/container.js';
import { SessionStateError } from '../errors.js';
import { type ContainerCommit, ContainerState, INTERNAL_PACKAGE } from './container-state.js';
import type { PackageData } from './package-data.js';

/**
 * The shapes of package data, keyed by package id. Augment it to type `session.get()`:
 *
 * @example
 * ```ts
 * declare module 'tsession' {
 *   interface SessionPackages {
 *     'shop.cart': { items: string[]; coupon?: string };
 *   }
 * }
 * ```
 */
// biome-ignore lint/suspicious/noEmptyInterface: users augment it
export interface SessionPackages {}

/** The data shape of a package id: from {@link SessionPackages}, else any string-keyed record. */
export type PackageShape<P extends string> = P extends keyof SessionPackages
  ? Extract<SessionPackages[P], object>
  : Record<string, unknown>;

/** What a {@link Session} needs from its manager. */
export interface SessionContext {
  readonly clientIds: ClientIdManager;
  /** The container serving a package id. */
  containerFor(pkg: string): SessionDataContainer;
  /** Every distinct container, the default first. */
  readonly containers: readonly SessionDataContainer[];
  /** The fingerprint sessions are bound to, when the manager binds them. */
  readonly fingerprint?: ((request: SessionRequest) => string) | undefined;
}

/** Options of {@link Session.regenerate}. */
export interface RegenerateOptions {
  /** Move the data to the new id; false starts empty. @default true */
  keepData?: boolean;
}

type Phase = 'open' | 'committing' | 'done';
const NOT_READ = Symbol('not read');

/**
 * One request's view of a client's session (Zope's ISession). Nothing is read until
 * the first `get`/`peek`; changes are committed together by `commit()`, which the
 * adapters call before the response's headers go out.
 */
export class Session {
  readonly #context: SessionContext;
  readonly #request: SessionRequest;
  #reading: ClientIdReading | undefined | typeof NOT_READ = NOT_READ;
  #issued: VerifiedId | undefined;
  /** The id was asked for explicitly, so it is sent even if nothing is stored. */
  #mustDeliver = false;
  /** The request's own id, ended by invalidate or regenerate in this request. */
  #ended: { key: string; reason: 'invalidated' | 'regenerated'; moveData: boolean } | undefined;
  #states = new Map<SessionDataContainer, ContainerState>();
  #phase: Phase = 'open';
  #binding: string | undefined | typeof NOT_READ = NOT_READ;
  #headers: HeaderEntry[] = [];

  /** @internal Made by `SessionManager.open()`. */
  static open(context: SessionContext, request: SessionRequest): Session {
    return new Session(context, request);
  }

  // Private rather than hidden from the declarations: a stripped constructor leaves an implicit
  // public one there, and `new Session()` would type-check in apps.
  private constructor(context: SessionContext, request: SessionRequest) {
    this.#context = context;
    this.#request = request;
  }

  /**
   * The package's data for this client, loaded on first use (one store round trip per
   * container per request). The same object is returned for the same package id.
   */
  async get<P extends string>(pkg: P): Promise<PackageData<PackageShape<P>>> {
    this.#assertOpen();
    checkPackageId(pkg);
    const state = await this.#loadedState(pkg);
    return state.packageData<PackageShape<P>>(pkg);
  }

  /** The package's data if this client has any, else undefined; never creates anything (SPEC 14). */
  async peek<P extends string>(pkg: P): Promise<PackageData<PackageShape<P>> | undefined> {
    this.#assertOpen();
    checkPackageId(pkg);
    const state = await this.#loadedState(pkg);
    return state.hasPackage(pkg) ? state.packageData<PackageShape<P>>(pkg) : undefined;
  }

  /**
   * The client's id, issued now (and sent with the response) if the request has none.
   * Throws `MissingClientIdError` when the id manager may not issue one. When the
   * request's id is one the store does not know, a write replaces it at commit with a
   * fresh id (SPEC 21, against session fixation): read it after `commit()` for the id sent.
   */
  get clientId(): string {
    const current = this.#issued ?? this.#validReading();
    if (current) return current.id;
    this.#issued = this.#context.clientIds.issue(this.#request);
    this.#mustDeliver = true;
    return this.#issued.id;
  }

  /** True when the client id was issued in this request. */
  get isNew(): boolean {
    return this.#issued !== undefined;
  }

  /** Where the request's id came from, or undefined when it carried none that verified. */
  get idSource(): ClientIdSource | undefined {
    return this.#issued ? undefined : this.#validReading()?.source;
  }

  /** Empties every package of this client, in every container (SPEC 19). */
  async clear(): Promise<void> {
    this.#assertOpen();
    const states = await Promise.all(this.#context.containers.map((c) => this.#loadedStateOf(c)));
    for (const state of states) state.clear();
  }

  /**
   * Ends the session: its data is deleted at commit and the client's id is forgotten
   * (the cookie is removed). Later reads in this request see empty data, and a later
   * write starts a new session under a fresh id (SPEC 11, 19, 37).
   */
  invalidate(): void {
    this.#end('invalidated', false);
  }

  /**
   * Moves the session to a fresh id and kills the old one in the same commit: call it
   * when privileges change, e.g. at login, against session fixation (SPEC 20).
   */
  async regenerate(options: RegenerateOptions = {}): Promise<void> {
    if (options.keepData === false) return this.#end('regenerated', false);
    this.#assertOpen();
    await Promise.all(this.#context.containers.map((c) => this.#loadedStateOf(c)));
    this.#end('regenerated', true);
    this.#issued = this.#context.clientIds.issue(this.#request);
    this.#mustDeliver = true;
  }

  /**
   * Commits every change of this request, across packages and containers: only the
   * entries whose encoding changed, and the last-access time once per resolution.
   * Throws `SessionSerializationError`, `SessionTooLargeError` or `MissingClientIdError`
   * before anything is written; `ConflictError` or `StoreUnavailableError` from a store.
   */
  async commit(): Promise<void> {
    this.#assertOpen();
    this.#phase = 'committing';
    try {
      const plans = this.#plan();
      // Every check that can fail runs before the first write, so a failure writes nothing.
      for (const { state, delta, byteSize } of plans) state.container.checkSize(delta, byteSize);
      const key = await this.#keyFor(plans);
      const endedKey = this.#ended?.key;
      if (this.#ended && !this.#ended.moveData) await this.#destroy(this.#ended.key, this.#ended.reason);
      await Promise.all(
        plans.map(({ state, delta, byteSize, replacesEntries }) => {
          const replaces = delta.create && this.#ended?.moveData && state.record ? endedKey : undefined;
          const moved = replaces ? { ...delta, replaces, ...(replacesEntries && { replacesEntries }) } : delta;
          return state.container.commit(key as string, moved, byteSize);
        }),
      );
      this.#headers = this.#responseHeaders(plans);
    } finally {
      this.#phase = 'done';
    }
  }

  /** Drops every change of this request; nothing is written and no header is sent (SPEC 32). */
  abort(): void {
    this.#phase = 'done';
    this.#headers = [];
  }

  /** The headers the response must carry (Set-Cookie and cache prevention), known after `commit()`. */
  get responseHeaders(): readonly HeaderEntry[] {
    return this.#headers;
  }

  /** True until `commit()` or `abort()`. */
  get isOpen(): boolean {
    return this.#phase === 'open';
  }

  /** `url` with the client id appended, for the `url` conveyance (issues an id if needed). */
  encodeUrl(url: string): string {
    const encode = this.#context.clientIds.encodeUrl;
    if (!encode) throw new SessionStateError('this client id manager has no url conveyance');
    return encode.call(this.#context.clientIds, url, this.clientId);
  }

  /** A hidden form field carrying the client id, for the `form` conveyance (issues an id if needed). */
  hiddenField(): string {
    const field = this.#context.clientIds.hiddenField;
    if (!field) throw new SessionStateError('this client id manager has no form conveyance');
    return field.call(this.#context.clientIds, this.clientId);
  }

  #fingerprint(): string | undefined {
    if (this.#binding === NOT_READ) this.#binding = this.#context.fingerprint?.(this.#request);
    return this.#binding;
  }

  #validReading(): ClientIdReading | undefined {
    if (this.#reading === NOT_READ) this.#reading = this.#context.clientIds.read(this.#request);
    return this.#ended ? undefined : this.#reading;
  }

  #loadedState(pkg: string): Promise<ContainerState> {
    return this.#loadedStateOf(this.#context.containerFor(pkg));
  }

  async #loadedStateOf(container: SessionDataContainer): Promise<ContainerState> {
    let state = this.#states.get(container);
    if (!state) {
      state = new ContainerState(container, () => this.#assertOpen(), this.#fingerprint());
      this.#states.set(container, state);
    }
    await state.load(this.#validReading()?.key);
    return state;
  }

  #end(reason: 'invalidated' | 'regenerated', moveData: boolean): void {
    this.#assertOpen();
    const previous = this.#ended;
    const key = previous?.key ?? this.#validReading()?.key;
    // Data dropped by an earlier invalidate in this request cannot be moved any more.
    const move = moveData && (previous === undefined || previous.moveData);
    this.#issued = undefined;
    this.#mustDeliver = false;
    if (key !== undefined)
      this.#ended = { key, reason: previous?.reason === 'invalidated' ? previous.reason : reason, moveData: move };
    if (!move) {
      for (const state of this.#states.values()) state.detach();
      this.#states = new Map();
    }
  }

  #plan(): ContainerCommit[] {
    const move = this.#ended?.moveData === true;
    return [...this.#states.values()]
      .map((state) => (move ? state.planMove() : state.plan()))
      .filter((plan) => plan !== undefined);
  }

  /**
   * The key to commit under. A request's own id is used only if the store knows it
   * (some container has a live record for it); otherwise a fresh id is issued, so an
   * unknown id is never adopted (SPEC 21), unless the id manager says its ids are
   * made elsewhere (`thirdParty`), where a fresh id could not be issued.
   */
  async #keyFor(plans: readonly ContainerCommit[]): Promise<string | undefined> {
    if (plans.length === 0) return undefined;
    if (this.#issued) return this.#issued.key;
    const reading = this.#validReading();
    if (reading && (this.#context.clientIds.adoptsUnknownIds || (await this.#isKnown()))) return reading.key;
    this.#issued = this.#context.clientIds.issue(this.#request);
    return this.#issued.key;
  }

  async #isKnown(): Promise<boolean> {
    if ([...this.#states.values()].some((s) => s.record !== undefined)) return true;
    const states = await Promise.all(this.#context.containers.map((c) => this.#loadedStateOf(c)));
    return states.some((s) => s.record !== undefined);
  }

  async #destroy(key: string, reason: 'invalidated' | 'regenerated'): Promise<void> {
    await Promise.all(this.#context.containers.map((c) => c.destroy(key, reason)));
  }

  #responseHeaders(plans: readonly ContainerCommit[]): HeaderEntry[] {
    const ids = this.#context.clientIds;
    if (this.#issued && (this.#mustDeliver || plans.some((p) => p.delta.create))) {
      return ids.deliver(this.#request, this.#issued.id);
    }
    if (this.#ended) return ids.revoke(this.#request);
    const reading = this.#validReading();
    const known = [...this.#states.values()].some((s) => s.record !== undefined);
    const touched = plans.some((p) => p.delta.touch !== undefined);
    if (reading && known && (reading.stale || (ids.refreshOnTouch && touched))) {
      return ids.deliver(this.#request, reading.id);
    }
    return [];
  }

  #assertOpen(): void {
    if (this.#phase !== 'open') {
      throw new SessionStateError(
        `the session was already ${this.#phase === 'done' ? 'committed or aborted' : 'committing'}; no further changes are possible in this request`,
      );
    }
  }
}

const PACKAGE_ID = /^[^\0]{1,256}$/;

function checkPackageId(pkg: string): void {
  if (pkg === INTERNAL_PACKAGE) throw new TypeError(`tsession: the package id ${INTERNAL_PACKAGE} is reserved`);
  if (typeof pkg !== 'string' || !PACKAGE_ID.test(pkg)) {
    throw new TypeError(
      `tsession: a package id is a non-empty string of at most 256 characters without NUL, got ${String(pkg)}`,
    );
  }
}
