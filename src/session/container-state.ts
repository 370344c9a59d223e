import type { SessionDataContainer } from '../container/container.js';
import { SessionStateError } from '../errors.js';
import { checkCap, entryBytes, INTERNAL_PACKAGE, PRINCIPAL_KEY } from '../stores/record.js';
import type { EntryWrite, ReplacedEntry, SessionDelta, StoredEntry, StoredSession } from '../stores/types.js';
import { PackageData, type PackageGuard } from './package-data.js';
import type { PackageDefinition } from './package-definition.js';

/** The entries of a cleared or missing record. */
const NO_ENTRIES: readonly StoredEntry[] = Object.freeze([]);

export { INTERNAL_PACKAGE };

/** A write made without reading: see {@link ContainerState.blindWrite}. */
interface BlindWrite {
  readonly pkg: string;
  readonly key: string;
  readonly value: unknown;
  readonly deleted: boolean;
}

function applyBlind(data: PackageData<object>, { key, value, deleted }: BlindWrite): void {
  const view = data as unknown as PackageData<Record<string, unknown>>;
  if (deleted) view.delete(key);
  else view.set(key, value);
}

/** The key, in {@link INTERNAL_PACKAGE}, of the fingerprint a session is bound to. */
const BINDING_KEY = 'binding';

/**
 * True when a record may be used by a request whose client has `binding` (a
 * fingerprint, as `SessionManagerOptions.fingerprint` gives it), in `container`: no
 * binding asked, no record, a record bound to the same fingerprint, or a record not bound
 * yet (made before binding was turned on: the first client to use it binds it). A record
 * bound to another client is, for that request, no record at all: it cannot read, write
 * or end it.
 */
export function usableBy(
  container: SessionDataContainer,
  record: StoredSession | undefined,
  binding: string | undefined,
): boolean {
  if (binding === undefined || record === undefined) return true;
  const bound = bindingOf(record);
  return bound === undefined || bound.value === encodeBinding(container, binding);
}

/** The fingerprint a record is bound to in `container`, decoded; undefined when it is not bound. */
export function boundFingerprint(container: SessionDataContainer, record: StoredSession): string | undefined {
  const bound = bindingOf(record);
  return bound === undefined ? undefined : String(container.codec.decode(bound.value));
}

function bindingOf(record: StoredSession): StoredEntry | undefined {
  return record.entries.find((e) => e.pkg === INTERNAL_PACKAGE && e.key === BINDING_KEY);
}

function encodeBinding(container: SessionDataContainer, binding: string): string {
  return container.codec.encode(binding, [INTERNAL_PACKAGE, BINDING_KEY]);
}

/** A planned commit to one container: the delta and the session's size after it. */
export interface ContainerCommit {
  readonly state: ContainerState;
  readonly delta: SessionDelta;
  /** UTF-8 bytes of the session after the delta, as this request sees it (`entryBytes`). */
  readonly byteSize: number;
  /**
   * For a move ({@link ContainerState.planMove}) of a loaded record: its entries as this
   * request loaded them, to send as `replacesEntries` with `replaces`, so the store refuses
   * the move if the old record changed meanwhile.
   */
  readonly replacesEntries?: readonly ReplacedEntry[];
}

/**
 * One request's view of a client's record in one container: the load (at most one),
 * the package data handed out, and whether the request cleared it. A state is
 * detached when the session is invalidated, so stale package data refuses writes.
 * It is its packages' {@link PackageGuard} itself: a per-request object literal of
 * closures in its place measurably doubled the adapters' per-request CPU (GC).
 */
export class ContainerState implements PackageGuard {
  readonly container: SessionDataContainer;
  #loading: Promise<this> | undefined;
  #record: StoredSession | undefined;
  #cleared = false;
  #detached = false;
  readonly #packages = new Map<string, PackageData<object>>();
  readonly #session: { assertOpen(): void };
  /** True once the load has resolved: from then on package data can be made. */
  #loaded = false;
  /**
   * Writes made without reading ({@link blindWrite}) before the load, in order. Committed
   * as they are when the record is never loaded; applied to the package data (as unread
   * sets and deletes) when the load resolves.
   */
  #blind: BlindWrite[] | undefined;
  #applyingBlind = false;
  /** The fingerprint this request's client has, when sessions are bound to one. */
  readonly #fingerprint: string | undefined;
  /** The encoded fingerprint this request's client has, when sessions are bound to one. */
  readonly #binding: string | undefined;
  /** The manager's validated packages by id; undefined when it has none (then nothing is validated). */
  readonly #definitions: ReadonlyMap<string, PackageDefinition> | undefined;

  constructor(
    container: SessionDataContainer,
    session: { assertOpen(): void },
    binding?: string,
    definitions?: ReadonlyMap<string, PackageDefinition>,
  ) {
    this.container = container;
    this.#definitions = definitions;
    this.#fingerprint = binding;
    this.#binding = binding === undefined ? undefined : encodeBinding(container, binding);
    this.#session = session;
  }

  /** @internal True when the container's store adds increments itself. */
  get mergesIncrements(): boolean {
    return this.container.mergesIncrements;
  }

  /** @internal Throws when the session may no longer change, or this state was detached. */
  assertWritable(): void {
    if (!this.#applyingBlind) this.#session.assertOpen();
    if (this.#detached) {
      throw new SessionStateError(
        'this package data belongs to a session that was invalidated or regenerated; call session.get() again',
      );
    }
  }

  /**
   * @internal Refuses a new key past the container's caps on keys per package and packages
   * per session, at the `set`, by the store's rule (`checkCap`); the store checks them again
   * against the record as stored.
   */
  beforeNewKey(pkg: string, size: number): void {
    const { maxKeysPerPackage, maxPackages } = this.container;
    checkCap(`keys in package ${pkg}`, size + 1, maxKeysPerPackage, size);
    if (size === 0) {
      const held = this.#heldPackages();
      if (!held.has(pkg)) checkCap('packages', held.size + 1, maxPackages, held.size);
    }
  }

  /**
   * @internal The request-side pre-check of a plan's size, by the store's rule; a create
   * grows from nothing, an update from the record as loaded (measured only when over).
   */
  checkSize(plan: ContainerCommit): void {
    // Under the cap (the common case) the rule passes whatever the record held; a blind update
    // knows nothing of the record, so only the store can tell whether it grows.
    if (plan.byteSize <= this.container.maxSessionBytes || (!plan.delta.create && !this.#loaded)) return;
    this.container.checkSize(plan.byteSize, plan.delta.create ? 0 : this.#recordBytes());
  }

  #recordBytes(): number {
    let bytes = 0;
    for (const e of this.#record?.entries ?? []) bytes += entryBytes(e.pkg, e.key, e.value);
    return bytes;
  }

  /**
   * Loads the client's record once and resolves this state; `key` undefined means the
   * request has no id to load. Later calls share the first load.
   */
  load(key: string | undefined): Promise<this> {
    if (this.#loading !== undefined) return this.#loading;
    if (key === undefined || this.container.loadsNow) {
      // Nothing to wait for: the state is loaded before this returns (see `loaded`).
      try {
        this.#loading = Promise.resolve(this.#settle(key === undefined ? undefined : this.container.loadNow(key)));
      } catch (error) {
        this.#loading = Promise.reject(error);
      }
      return this.#loading;
    }
    this.#loading = this.container.load(key).then((record) => this.#settle(record));
    return this.#loading;
  }

  /** True once the load has resolved: {@link packageData} can be made. */
  get loaded(): boolean {
    return this.#loaded;
  }

  /** Takes the loaded record, and replays the blind writes made before it through the package data. */
  #settle(record: StoredSession | undefined): this {
    // A record bound to another client's fingerprint is, for this request, no record at all.
    this.#record = record && this.#boundHere(record) ? record : undefined;
    this.#loaded = true;
    // Writes made before the load now go through the package data, as if made after it.
    const blind = this.#blind;
    this.#blind = undefined;
    // Made while the session was open, applied perhaps once its commit has begun.
    this.#applyingBlind = true;
    try {
      for (const write of blind ?? []) applyBlind(this.packageData(write.pkg), write);
    } finally {
      this.#applyingBlind = false;
    }
    return this;
  }

  #boundHere(record: StoredSession): boolean {
    return usableBy(this.container, record, this.#fingerprint);
  }

  /**
   * Sets (or, with `deleted`, deletes) a key without reading the record: through the
   * package data once the record is loaded, else kept for {@link planBlind}. Either way
   * the write is blind, so it is committed without a version check.
   */
  blindWrite(pkg: string, key: string, value: unknown, deleted: boolean): void {
    this.assertWritable();
    const write = { pkg, key, value, deleted };
    if (this.#loaded) applyBlind(this.packageData(pkg), write);
    else (this.#blind ??= []).push(write);
  }

  /** True when this state holds blind writes and no load was ever started: it can commit without one. */
  get blindOnly(): boolean {
    return this.#blind !== undefined && this.#loading === undefined;
  }

  /**
   * The delta of a state that was never loaded ({@link blindOnly}): its blind writes
   * (the last one per key) with a touch, creating the record or updating it unconditionally.
   * Encodes the values, so it throws `SessionSerializationError` before any write.
   */
  planBlind(create: boolean): ContainerCommit {
    const last = new Map<string, BlindWrite>();
    for (const write of this.#blind ?? []) last.set(`${write.pkg}\0${write.key}`, write);
    const writes: EntryWrite[] = [];
    let byteSize = 0;
    for (const { pkg, key, value, deleted } of last.values()) {
      if (deleted && create) continue;
      const encoded = deleted ? undefined : this.container.codec.encode(this.#checked(pkg, key, value), [pkg, key]);
      if (encoded !== undefined) byteSize += entryBytes(pkg, key, encoded);
      writes.push({ pkg, key, value: encoded });
    }
    const touch = this.container.touchFor(undefined);
    const delta: SessionDelta = create
      ? { create: true, writes: this.#withBinding(writes), touch }
      : { create: false, writes, touch };
    return { state: this, byteSize, delta };
  }

  /** A blind write's value to store: its schema's output when the package is validated (throws when invalid). */
  #checked(pkg: string, key: string, value: unknown): unknown {
    const definition = this.#definitions?.get(pkg);
    return definition === undefined ? value : definition.check(key, value);
  }

  /** True when sessions are bound and the loaded record is not bound yet: the next commit binds it. */
  #needsBinding(): boolean {
    return this.#binding !== undefined && this.#record !== undefined && bindingOf(this.#record) === undefined;
  }

  /** The live record loaded, if any. */
  get record(): StoredSession | undefined {
    return this.#record;
  }

  /** True once the load has been started. */
  get loadStarted(): boolean {
    return this.#loading !== undefined;
  }

  /** The package's data, made on first use from the loaded entries. Call after {@link load}. */
  packageData<T extends object>(pkg: string): PackageData<T> {
    let data = this.#packages.get(pkg);
    if (!data) {
      // The whole record's entries: the package data keeps its own (no filtered copy per request).
      const entries = this.#cleared ? NO_ENTRIES : (this.#record?.entries ?? NO_ENTRIES);
      data = PackageData.create(pkg, entries, this.container.codec, this, this.#definitions?.get(pkg));
      this.#packages.set(pkg, data);
    }
    return data as unknown as PackageData<T>;
  }

  /** The packages that hold data now: stored ones not yet opened, and opened ones not empty. */
  #heldPackages(): Set<string> {
    const held = new Set<string>();
    if (!this.#cleared) for (const e of this.#record?.entries ?? []) if (!this.#packages.has(e.pkg)) held.add(e.pkg);
    for (const [pkg, data] of this.#packages) if (data.size > 0) held.add(pkg);
    held.delete(INTERNAL_PACKAGE);
    return held;
  }

  /** True when the loaded record holds entries of `pkg`, or it was made in this request. */
  hasPackage(pkg: string): boolean {
    return this.#packages.has(pkg) || (!this.#cleared && (this.#record?.entries.some((e) => e.pkg === pkg) ?? false));
  }

  /** Empties every package of this client in this container (SPEC 19). */
  clear(): void {
    this.assertWritable();
    this.#cleared = true;
    // The internal package is not the app's data: the binding and the principal outlive a clear.
    for (const [pkg, data] of this.#packages) if (pkg !== INTERNAL_PACKAGE) data.clear();
  }

  /** Stops the package data handed out from accepting writes. */
  detach(): void {
    this.#detached = true;
  }

  /**
   * The delta to commit for this request, or undefined when there is nothing to write:
   * changed entries, a clear, and the last-access touch once per resolution. Encodes
   * the changed values, so it throws `SessionSerializationError` before any write.
   */
  plan(): ContainerCommit | undefined {
    // Loops, not map/flatMap/reduce: this runs at every commit, and a read-only request
    // should allocate nothing here.
    let writes: EntryWrite[] = [];
    let byteSize = this.#untouchedBytes();
    for (const data of this.#packages.values()) byteSize += data.collectChanges(writes);
    const record = this.#record;
    if (record === undefined && writes.length === 0) return undefined;
    const touch = record === undefined ? undefined : this.container.touchFor(record);
    const clear = this.#cleared && record !== undefined;
    // A record made before binding was turned on is bound by its first use, even a read:
    // the binding is written expecting none, so two clients racing for it cannot both win.
    const bindNow = !clear && this.#needsBinding();
    if (writes.length === 0 && !clear && !bindNow && touch === undefined) return undefined;
    if (record === undefined || clear) writes = this.#withBinding(writes);
    if (clear) writes = this.#keepPrincipal(writes);
    else if (bindNow) writes = [...writes, { ...this.#bindingWrite(), expectVersion: 0 }];
    byteSize += this.#addedBindingBytes(writes);
    const delta: SessionDelta =
      record === undefined
        ? { create: true, touch: this.container.touchFor(undefined), writes }
        : { create: false, writes, ...(clear && { clear }), ...(touch && { touch }) };
    return { state: this, byteSize, delta };
  }

  /**
   * The delta that moves every entry to a new record, replacing this one (regenerate
   * keeping data), or undefined when there is nothing to move. With a loaded record it
   * also gives that record's entries as loaded (`replacesEntries`).
   */
  planMove(from: string): ContainerCommit | undefined {
    const record = this.#record;
    if (record && !this.#cleared) {
      for (const entry of record.entries) this.packageData(entry.pkg);
    }
    const writes: EntryWrite[] = [...this.#packages.values()].flatMap((data) => data.snapshot());
    if (writes.length === 0 && record === undefined) return undefined;
    const moved = this.#withBinding(writes);
    const byteSize = moved.reduce((sum, w) => sum + (w.value === undefined ? 0 : entryBytes(w.pkg, w.key, w.value)), 0);
    const touch = this.container.touchFor(undefined);
    const delta: SessionDelta = record
      ? {
          create: true,
          writes: moved,
          touch,
          replaces: from,
          // Every entry loaded, also when this request cleared them: the old record must be unchanged to be replaced.
          replacesEntries: record.entries.map(({ pkg, key, version }) => ({ pkg, key, version })),
        }
      : { create: true, writes: moved, touch };
    return { state: this, byteSize, delta };
  }

  /** The writes of a commit that creates or clears the record, with the client binding when sessions are bound. */
  #withBinding(writes: EntryWrite[]): EntryWrite[] {
    if (this.#binding === undefined || writes.some((w) => w.pkg === INTERNAL_PACKAGE && w.key === BINDING_KEY))
      return writes;
    return [...writes, this.#bindingWrite()];
  }

  /** The writes of a commit that clears the record, with the stored principal written again unless this request changed it. */
  #keepPrincipal(writes: EntryWrite[]): EntryWrite[] {
    const stored = this.#record?.entries.find((e) => e.pkg === INTERNAL_PACKAGE && e.key === PRINCIPAL_KEY);
    if (stored === undefined || writes.some((w) => w.pkg === INTERNAL_PACKAGE && w.key === PRINCIPAL_KEY))
      return writes;
    return [...writes, { pkg: INTERNAL_PACKAGE, key: PRINCIPAL_KEY, value: stored.value }];
  }

  /** The write of this client's binding; call only when sessions are bound. */
  #bindingWrite(): EntryWrite {
    return { pkg: INTERNAL_PACKAGE, key: BINDING_KEY, value: this.#binding as string };
  }

  /** Bytes of a binding this plan adds (the package data's sizes do not see it). */
  #addedBindingBytes(writes: readonly EntryWrite[]): number {
    const added = writes.find((w) => w.pkg === INTERNAL_PACKAGE && w.key === BINDING_KEY);
    if (added?.value === undefined || (!this.#cleared && this.#record && bindingOf(this.#record))) return 0;
    return entryBytes(added.pkg, added.key, added.value);
  }

  /** Bytes of the loaded entries of packages this request did not open (the internal one included). */
  #untouchedBytes(): number {
    if (this.#cleared || !this.#record) return 0;
    let bytes = 0;
    for (const entry of this.#record.entries) {
      if (!this.#packages.has(entry.pkg)) bytes += entryBytes(entry.pkg, entry.key, entry.value);
    }
    return bytes;
  }
}
