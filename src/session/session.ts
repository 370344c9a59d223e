import type { ClientIdManager, ClientIdSource, HeaderEntry, SessionRequest } from '../client-id/types.js';
import type { SessionDataContainer } from '../container/container.js';
import { ConflictError, SessionConfigError, SessionStateError } from '../errors.js';
import { INTERNAL_PACKAGE, PRINCIPAL_KEY } from '../stores/record.js';
import { ClientIdState, type EndReason } from './client-id-state.js';
import { type ContainerCommit, ContainerState, usableBy } from './container-state.js';
import { checkKey, checkPackageId, checkPrincipal } from './names.js';
import type { PackageData } from './package-data.js';
import type { PackageDefinition } from './package-definition.js';
import { commitResolving } from './resolve.js';

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
  /** The validated packages by id (`definePackage`), when there are any. */
  readonly definitions?: ReadonlyMap<string, PackageDefinition> | undefined;
}

/** A package id, or a package's definition (`definePackage`) standing for its id. */
export type PackageRef = string | PackageDefinition;

/** Options of {@link Session.regenerate}. */
export interface RegenerateOptions {
  /** Move the data to the new id; false starts empty. @default true */
  keepData?: boolean;
}

type Phase = 'open' | 'committing' | 'done';
const NOT_READ = Symbol('not read');
const NO_HEADERS: readonly HeaderEntry[] = Object.freeze([]);

/**
 * One request's view of a client's session (Zope's ISession). Nothing is read until
 * the first `get`/`peek`; changes are committed together by `commit()`, which the
 * adapters call before the response's headers go out.
 */
export class Session {
  readonly #context: SessionContext;
  readonly #request: SessionRequest;
  readonly #id: ClientIdState;
  /** One state per container used, in first-use order: an array, as apps have one or two containers. */
  #states: ContainerState[] = [];
  #phase: Phase = 'open';
  #binding: string | undefined | typeof NOT_READ = NOT_READ;
  #headers: readonly HeaderEntry[] = NO_HEADERS;

  /** @internal Made by `SessionManager.open()`. */
  static open(context: SessionContext, request: SessionRequest): Session {
    return new Session(context, request);
  }

  // Private rather than hidden from the declarations: a stripped constructor leaves an implicit
  // public one there, and `new Session()` would type-check in apps.
  private constructor(context: SessionContext, request: SessionRequest) {
    this.#context = context;
    this.#request = request;
    this.#id = new ClientIdState(context.clientIds, request);
  }

  /**
   * The package's data for this client, loaded on first use (one store round trip per
   * container per request). The same object is returned for the same package id. `pkg` is a
   * package id, or a definition from `definePackage` (given to the manager), which types the
   * data from its schemas. A validated package's stored values are checked now, by its
   * `onInvalid` policy: under `'fail'` this rejects with `SessionValidationError`.
   */
  get<T extends object>(pkg: PackageDefinition<string, T>): Promise<PackageData<T>>;
  get<P extends string>(pkg: P): Promise<PackageData<PackageShape<P>>>;
  get(pkg: PackageRef): Promise<PackageData<Record<string, unknown>>> {
    // Not async: on a store that loads synchronously, a read allocates one promise, not one per layer.
    try {
      this.#assertOpen();
      const id = this.#packageId(pkg);
      const state = this.#stateOf(this.#context.containerFor(id));
      const loading = state.load(this.#id.reading?.key);
      return state.loaded ? Promise.resolve(state.packageData(id)) : loading.then((loaded) => loaded.packageData(id));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Sets `key` of package `pkg` without reading the session: a blind write, committed
   * without a version check (the last writer of the key wins), and when nothing of this
   * container is read in the request, in one store round trip with no load. Synchronous:
   * nothing is awaited until the commit. Reading the package later in the request sees
   * the value.
   */
  set<T extends object, K extends keyof T & string>(pkg: PackageDefinition<string, T>, key: K, value: T[K]): void;
  set<P extends string, K extends keyof PackageShape<P> & string>(pkg: P, key: K, value: PackageShape<P>[K]): void;
  set(pkg: PackageRef, key: string, value: unknown): void {
    this.#blindWrite(pkg, key, value, false);
  }

  /** Deletes `key` of package `pkg` without reading the session: a blind write, as {@link set}. */
  delete<T extends object>(pkg: PackageDefinition<string, T>, key: keyof T & string): void;
  delete<P extends string>(pkg: P, key: keyof PackageShape<P> & string): void;
  delete(pkg: PackageRef, key: string): void {
    this.#blindWrite(pkg, key, undefined, true);
  }

  #blindWrite(pkg: PackageRef, key: string, value: unknown, deleted: boolean): void {
    this.#assertOpen();
    const id = this.#packageId(pkg);
    checkKey(key);
    this.#stateOf(this.#context.containerFor(id)).blindWrite(id, key, value, deleted);
  }

  /**
   * The id of a package id or definition, checked: a definition must be the one the manager
   * was given, else its schemas would not be the ones applied to the package.
   */
  #packageId(pkg: PackageRef): string {
    if (typeof pkg === 'string') {
      checkPackageId(pkg);
      return pkg;
    }
    if (this.#context.definitions?.get(pkg?.id) !== pkg) {
      throw new SessionConfigError(
        `the package definition '${String(pkg?.id)}' was not given to this SessionManager: pass it in \`packages\``,
      );
    }
    return pkg.id;
  }

  /** The package's data if this client has any, else undefined; never creates anything (SPEC 14). */
  peek<T extends object>(pkg: PackageDefinition<string, T>): Promise<PackageData<T> | undefined>;
  peek<P extends string>(pkg: P): Promise<PackageData<PackageShape<P>> | undefined>;
  async peek(pkg: PackageRef): Promise<PackageData<Record<string, unknown>> | undefined> {
    this.#assertOpen();
    const id = this.#packageId(pkg);
    const state = await this.#loadedState(id);
    return state.hasPackage(id) ? state.packageData(id) : undefined;
  }

  /**
   * The client's id, issued now (and sent with the response) if the request has none.
   * Throws `MissingClientIdError` when the id manager may not issue one. When the
   * request's id is one the store does not know, a write replaces it at commit with a
   * fresh id (SPEC 21, against session fixation): read it after `commit()` for the id sent.
   */
  get clientId(): string {
    return this.#id.current().id;
  }

  /** True when the client id was issued in this request. */
  get isNew(): boolean {
    return this.#id.issued !== undefined;
  }

  /** Where the request's id came from, or undefined when it carried none that verified. */
  get idSource(): ClientIdSource | undefined {
    return this.#id.issued ? undefined : this.#id.reading?.source;
  }

  /** Empties every package of this client, in every container (SPEC 19). */
  async clear(): Promise<void> {
    this.#assertOpen();
    const states = await Promise.all(this.#context.containers.map((c) => this.#loadedStateOf(c)));
    for (const state of states) state.clear();
  }

  /**
   * Says which user this session belongs to (a user id, e.g. at login), or with `null`
   * that it belongs to no one any more, so that `manager.sessionsOf(userId)` lists it and
   * `manager.endSessionsOf(userId)` ends it. Written blind at commit, in the default
   * container's store, which indexes it. Kept by `regenerate()` and `clear()`; gone with
   * the session on `invalidate()` (and with `regenerate({ keepData: false })`, which
   * starts empty).
   * @throws SessionNameError for a user id that is not a non-empty, well-formed string of
   *   at most 256 characters.
   */
  setPrincipal(userId: string | null): void {
    this.#assertOpen();
    if (userId !== null) checkPrincipal(userId);
    const state = this.#stateOf(this.#context.containers[0] as SessionDataContainer);
    state.blindWrite(INTERNAL_PACKAGE, PRINCIPAL_KEY, userId ?? undefined, userId === null);
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
    this.#id.issueForDelivery();
  }

  /**
   * Commits every change of this request, across packages and containers: only the
   * entries whose encoding changed, and the last-access time once per resolution.
   * Throws `SessionSerializationError`, `SessionTooLargeError` or `MissingClientIdError`
   * before anything is written; `ConflictError` or `StoreUnavailableError` from a store.
   */
  async commit(): Promise<void> {
    await this.finish();
  }

  /**
   * @internal Commits as {@link commit} does and gives the headers the response must
   * carry. When nothing needs the store (no change, no touch, no end), it completes
   * synchronously and returns the headers themselves, so an adapter can send the
   * response in the same tick, untouched; otherwise it returns a promise of them.
   */
  finish(): readonly HeaderEntry[] | Promise<readonly HeaderEntry[]> {
    this.#assertOpen();
    this.#phase = 'committing';
    let plans: ContainerCommit[];
    try {
      const blind = this.#blindOnlyState();
      if (blind) return this.#writeBlind(blind);
      for (const state of this.#states) if (state.blindOnly) return this.#loadThenWrite();
      plans = this.#checkedPlans();
      if (plans.length === 0 && this.#id.ended === undefined) return this.#done(plans);
    } catch (error) {
      this.#phase = 'done';
      throw error;
    }
    return this.#write(plans);
  }

  /** The commit plans, with every check that can fail run before the first write, so a failure writes nothing. */
  #checkedPlans(): ContainerCommit[] {
    const plans = this.#plan();
    for (const plan of plans) plan.state.checkSize(plan);
    return plans;
  }

  /**
   * A fresh session for the same request, sharing nothing with this one: what a conflict
   * retry runs the handler again with, so it sees the winner's data. This one is aborted.
   */
  reopen(): Session {
    if (this.#phase === 'open') this.abort();
    return new Session(this.#context, this.#request);
  }

  /** Loads the states that only wrote blind but cannot commit without a load, then commits as usual. */
  async #loadThenWrite(): Promise<readonly HeaderEntry[]> {
    try {
      const key = this.#id.reading?.key;
      await Promise.all(this.#states.filter((s) => s.blindOnly).map((s) => s.load(key)));
      const plans = this.#checkedPlans();
      if (plans.length === 0 && this.#id.ended === undefined) return this.#done(plans);
      return await this.#write(plans);
    } finally {
      this.#phase = 'done';
    }
  }

  async #write(plans: readonly ContainerCommit[]): Promise<readonly HeaderEntry[]> {
    try {
      const ended = this.#id.ended;
      if (ended && !ended.moveData) await this.#destroy(ended.key, ended.reason);
      if (plans.length > 0) {
        const key = await this.#id.keyFor(() => this.#isKnown());
        await Promise.all(plans.map((plan) => this.#commitPlan(key, plan)));
      }
      return this.#done(plans);
    } finally {
      this.#phase = 'done';
    }
  }

  /** One container's commit; through its conflict resolvers only when it has any (no extra promise otherwise). */
  #commitPlan(key: string, { state, delta }: ContainerCommit): Promise<unknown> {
    const { container } = state;
    return container.hasResolvers ? commitResolving(container, key, delta, state.record) : container.commit(key, delta);
  }

  #done(plans: readonly ContainerCommit[]): readonly HeaderEntry[] {
    // Loops, not closures: this runs on every request, read-only ones included.
    let created = false;
    let touched = false;
    for (const { delta } of plans) {
      created ||= delta.create === true;
      touched ||= delta.touch !== undefined;
    }
    let known = false;
    for (const state of this.#states) known ||= state.record !== undefined;
    this.#headers = this.#id.headers({ created, known, touched });
    this.#phase = 'done';
    return this.#headers;
  }

  /** Drops every change of this request; nothing is written and no header is sent (SPEC 32). */
  abort(): void {
    this.#phase = 'done';
    this.#headers = NO_HEADERS;
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

  #loadedState(pkg: string): Promise<ContainerState> {
    return this.#loadedStateOf(this.#context.containerFor(pkg));
  }

  #loadedStateOf(container: SessionDataContainer): Promise<ContainerState> {
    return this.#stateOf(container).load(this.#id.reading?.key);
  }

  #stateOf(container: SessionDataContainer): ContainerState {
    let state: ContainerState | undefined;
    for (const held of this.#states) if (held.container === container) state = held;
    if (!state) {
      state = new ContainerState(container, this, this.#fingerprint(), this.#context.definitions);
      this.#states.push(state);
    }
    return state;
  }

  /**
   * The one container state of a request that only wrote blind, when it can commit
   * without a load: one container, nothing ended, and no client binding (a bound record
   * must be loaded to check the binding before anything is written to it).
   */
  #blindOnlyState(): ContainerState | undefined {
    const [state, ...others] = this.#states;
    if (!state?.blindOnly || others.length > 0 || this.#id.ended || this.#fingerprint() !== undefined) return undefined;
    return state;
  }

  /**
   * Commits blind writes in one round trip: an unconditional update of the request's
   * record, or, when the store does not hold it (unknown, expired, ended meanwhile), a
   * new record under a fresh id, exactly as a write after a load that found nothing.
   */
  async #writeBlind(state: ContainerState): Promise<readonly HeaderEntry[]> {
    try {
      const reading = this.#id.issued ? undefined : this.#id.reading;
      if (reading) {
        const update = state.planBlind(false);
        state.checkSize(update);
        if (await this.#committedUnlessGone(state, reading.key, update)) {
          this.#id.markKnown();
          return this.#done([update]);
        }
      }
      const create = state.planBlind(true);
      state.checkSize(create);
      await state.container.commit(this.#id.freshKey(), create.delta);
      return this.#done([create]);
    } finally {
      this.#phase = 'done';
    }
  }

  async #committedUnlessGone(state: ContainerState, key: string, plan: ContainerCommit): Promise<boolean> {
    try {
      await state.container.commit(key, plan.delta);
      return true;
    } catch (error) {
      if (error instanceof ConflictError && error.reason === 'gone') return false;
      throw error;
    }
  }

  /** @internal Throws unless the session may still change (for the package data it handed out). */
  assertOpen(): void {
    this.#assertOpen();
  }

  #end(reason: EndReason, moveData: boolean): void {
    this.#assertOpen();
    if (!this.#id.end(reason, moveData)) {
      for (const state of this.#states) state.detach();
      this.#states = [];
    }
  }

  #plan(): ContainerCommit[] {
    const ended = this.#id.ended;
    const moveFrom = ended?.moveData ? ended.key : undefined;
    const plans: ContainerCommit[] = [];
    for (const state of this.#states) {
      const plan = moveFrom === undefined ? state.plan() : state.planMove(moveFrom);
      if (plan !== undefined) plans.push(plan);
    }
    return plans;
  }

  async #isKnown(): Promise<boolean> {
    if (this.#states.some((s) => s.record !== undefined)) return true;
    const states = await Promise.all(this.#context.containers.map((c) => this.#loadedStateOf(c)));
    return states.some((s) => s.record !== undefined);
  }

  async #destroy(key: string, reason: EndReason): Promise<void> {
    const binding = this.#fingerprint();
    await Promise.all(
      this.#context.containers.map(async (c) => {
        // A session bound to another client is not this request's to end (SECURITY.md).
        if (binding !== undefined && !usableBy(c, await c.load(key), binding)) return;
        await c.destroy(key, reason);
      }),
    );
  }

  #assertOpen(): void {
    if (this.#phase !== 'open') {
      throw new SessionStateError(
        `the session was already ${this.#phase === 'done' ? 'committed or aborted' : 'committing'}; no further changes are possible in this request`,
      );
    }
  }
}
