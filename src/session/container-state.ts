import type { SessionDataContainer } from '../container/container.js';
import { SessionStateError, SessionTooLargeError } from '../errors.js';
import type { EntryWrite, ReplacedEntry, SessionDelta, StoredSession } from '../stores/types.js';
import { PackageData, type PackageGuard } from './package-data.js';

/** The reserved package that holds tsession's own per-session data, such as the client binding. */
export const INTERNAL_PACKAGE = 'tsession:internal';
/** The key, in {@link INTERNAL_PACKAGE}, of the fingerprint a session is bound to. */
const BINDING_KEY = 'binding';

/** A planned commit to one container: the delta and the session's size after it. */
export interface ContainerCommit {
  readonly state: ContainerState;
  readonly delta: SessionDelta;
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
  #loading: Promise<StoredSession | undefined> | undefined;
  #record: StoredSession | undefined;
  #cleared = false;
  #detached = false;
  readonly #packages = new Map<string, PackageData<object>>();
  readonly #assertOpen: () => void;
  /** The encoded fingerprint this request's client has, when sessions are bound to one. */
  readonly #binding: string | undefined;

  constructor(container: SessionDataContainer, assertOpen: () => void, binding?: string) {
    this.container = container;
    this.#binding =
      binding === undefined ? undefined : container.codec.encode(binding, [INTERNAL_PACKAGE, BINDING_KEY]);
    this.#assertOpen = assertOpen;
  }

  /** @internal Throws when the session may no longer change, or this state was detached. */
  assertWritable(): void {
    this.#assertOpen();
    if (this.#detached) {
      throw new SessionStateError(
        'this package data belongs to a session that was invalidated or regenerated; call session.get() again',
      );
    }
  }

  /** @internal Refuses a new key past the container's caps on keys per package and packages per session. */
  beforeNewKey(pkg: string, size: number): void {
    const { maxKeysPerPackage, maxPackages } = this.container;
    if (size >= maxKeysPerPackage)
      throw new SessionTooLargeError(size + 1, maxKeysPerPackage, `keys in package ${pkg}`);
    if (size === 0) {
      const held = this.#heldPackages();
      if (!held.has(pkg) && held.size >= maxPackages)
        throw new SessionTooLargeError(held.size + 1, maxPackages, 'packages');
    }
  }

  /** Loads the client's record once; `key` undefined means the request has no id to load. */
  load(key: string | undefined): Promise<StoredSession | undefined> {
    this.#loading ??= key === undefined ? Promise.resolve(undefined) : this.container.load(key);
    return this.#loading.then((record) => {
      // A record bound to another client's fingerprint is, for this request, no record at all.
      this.#record = record && this.#boundHere(record) ? record : undefined;
      return this.#record;
    });
  }

  #boundHere(record: StoredSession): boolean {
    if (this.#binding === undefined) return true;
    const bound = record.entries.find((e) => e.pkg === INTERNAL_PACKAGE && e.key === BINDING_KEY);
    return bound === undefined || bound.value === this.#binding;
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
      const entries = this.#cleared ? [] : (this.#record?.entries.filter((e) => e.pkg === pkg) ?? []);
      data = PackageData.create(pkg, entries, this.container.codec, this);
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
    for (const data of this.#packages.values()) data.clear();
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
    const changes = [...this.#packages.values()].map((data) => data.changes());
    const writes = changes.flatMap((c) => c.writes);
    const byteSize = changes.reduce((sum, c) => sum + c.byteSize, this.#untouchedBytes());
    const record = this.#record;
    if (record === undefined && writes.length === 0) return undefined;
    const touch = this.container.touchFor(record);
    const clear = this.#cleared && record !== undefined;
    if (writes.length === 0 && !clear && touch === undefined) return undefined;
    const create = record === undefined;
    return {
      state: this,
      byteSize,
      delta: {
        create,
        writes: create || clear ? this.#withBinding(writes) : writes,
        ...(clear && { clear }),
        ...(touch && { touch }),
      },
    };
  }

  /**
   * The delta that moves every entry to a new record, replacing this one (regenerate
   * keeping data), or undefined when there is nothing to move. With a loaded record it
   * also gives that record's entries as loaded (`replacesEntries`).
   */
  planMove(): ContainerCommit | undefined {
    const record = this.#record;
    if (record && !this.#cleared) {
      for (const entry of record.entries) this.packageData(entry.pkg);
    }
    const writes: EntryWrite[] = [...this.#packages.values()].flatMap((data) => data.snapshot());
    if (writes.length === 0 && record === undefined) return undefined;
    const byteSize = writes.reduce((sum, w) => sum + w.key.length + (w.value?.length ?? 0), 0);
    const touch = this.container.touchFor(undefined);
    return {
      state: this,
      byteSize,
      delta: { create: true, writes: this.#withBinding(writes), ...(touch && { touch }) },
      // Every entry loaded, also when this request cleared them: the old record must be unchanged to be replaced.
      ...(record && { replacesEntries: record.entries.map(({ pkg, key, version }) => ({ pkg, key, version })) }),
    };
  }

  /** The writes of a commit that creates or clears the record, with the client binding when sessions are bound. */
  #withBinding(writes: EntryWrite[]): EntryWrite[] {
    if (this.#binding === undefined || writes.some((w) => w.pkg === INTERNAL_PACKAGE)) return writes;
    return [...writes, { pkg: INTERNAL_PACKAGE, key: BINDING_KEY, value: this.#binding }];
  }

  #untouchedBytes(): number {
    if (this.#cleared || !this.#record) return 0;
    let bytes = 0;
    for (const entry of this.#record.entries) {
      if (!this.#packages.has(entry.pkg)) bytes += entry.key.length + entry.value.length;
    }
    return bytes;
  }
}
