import { jsonCodec, type SessionCodec } from '../codec/codec.js';
import { ConflictError, SessionConfigError } from '../errors.js';
import { checkCap } from '../stores/record.js';
import type {
  CommitResult,
  SessionCaps,
  SessionDelta,
  SessionLimit,
  SessionStore,
  StoredSession,
  SweepOptions,
  Touch,
} from '../stores/types.js';
import { type Clock, systemClock } from '../time.js';
import type { SessionEndReason, SessionTelemetry, TelemetryProbe } from './telemetry.js';

export type { SessionEndReason } from './telemetry.js';

/**
 * Merges two concurrent changes of one key instead of refusing the later commit (Zope's
 * `_p_resolveConflict`): given the value stored now (written by the request that committed
 * first), the value this request read, and the value it wants to write (`undefined` for
 * an absent or deleted key), it returns the value to write (`undefined` deletes). It must
 * be a pure function of its arguments: it may run more than once, and never sees the
 * request. Throwing refuses the merge: the commit fails with `ConflictError('version')`.
 *
 * @example
 * ```ts
 * // a set of tags that grows from both sides
 * const union: ConflictResolver = (stored, _read, mine) => [...new Set([...(stored as string[] ?? []), ...(mine as string[] ?? [])])];
 * ```
 */
export type ConflictResolver = (stored: unknown, readByMe: unknown, mine: unknown) => unknown;

/** Options of {@link SessionDataContainer}. Times are in seconds. */
export interface SessionDataContainerOptions {
  /** Where the data lives. Each container needs a store (or a store prefix/table) of its own. */
  store: SessionStore;
  /** Seconds a session lives after its last access; 0 never expires. @default 3600 */
  timeout?: number;
  /** The last-access time is written at most once per this many seconds, so read-only requests write nothing in between. @default 600 */
  resolution?: number;
  /** A cap on live sessions in this container. @default undefined (only the store's own bound) */
  limit?: SessionLimit;
  /**
   * The most UTF-8 bytes one session may hold here: package ids, keys and encoded values.
   * The store checks it against the record as stored, atomically with the write.
   * @default 1_048_576
   */
  maxSessionBytes?: number;
  /** The most packages one session may hold data in here. @default 100 */
  maxPackages?: number;
  /** The most keys one package of one session may hold. @default 1000 */
  maxKeysPerPackage?: number;
  /** How values are encoded. @default jsonCodec */
  codec?: SessionCodec;
  /**
   * Conflict resolvers by package id: one {@link ConflictResolver} for every key of the
   * package, or one per key. When a commit conflicts only on keys that have one, the
   * library re-reads the record, merges each such key and commits again, without running
   * the handler again; a key without a resolver, or a resolver that throws, gives the
   * `ConflictError` as before.
   * @default {}
   */
  resolvers?: Readonly<Record<string, ConflictResolver | Readonly<Record<string, ConflictResolver>>>>;
  /** Called after a session's first commit creates it here. */
  onStart?: (clientKey: string) => void;
  /**
   * Called when a session ends here. Expiry is reported for records removed by this
   * container's sweeps (`sweep()` and `sweepIntervalSeconds`); a store's own reclamation
   * (Redis key TTLs) removes records silently.
   */
  onEnd?: (clientKey: string, reason: SessionEndReason) => void;
  /** Where errors thrown by hooks go. @default console.error */
  onHookError?: (error: unknown) => void;
  /**
   * Sweep expired records on an unref'd timer this often, through {@link SessionDataContainer.sweep},
   * on the container's `clock`, so `onEnd('expired')` fires for every record removed; 0 leaves
   * sweeping to the app (`manager.sweep()`, the CLI). The container is the only owner of
   * sweeping: stores keep no timer of their own.
   * @default {@link DEFAULT_SWEEP_INTERVAL} (60) for a store that does not expire records by
   *   itself (`capabilities.selfExpiring` false: memory, SQLite, PostgreSQL, and Redis, whose
   *   sweep reports what its key TTLs reclaimed), else 0 (an express-session store's own expiry
   *   reclaims records).
   */
  sweepIntervalSeconds?: number;
  /** Where errors of timed sweeps go. @default console.error */
  onSweepError?: (error: unknown) => void;
  /** @default the system clock */
  clock?: Clock;
  /**
   * Reports store round trips (timed, by outcome) and sessions started and ended, e.g.
   * `openTelemetry()` from `tsession/telemetry`. Without it nothing is measured or allocated.
   * @default undefined
   */
  telemetry?: SessionTelemetry;
}

/** The default sweep interval, in seconds, of a container whose store does not expire records by itself. */
export const DEFAULT_SWEEP_INTERVAL = 60;

/**
 * The policy over a store (Zope's ISessionDataContainer): timeout, resolution, expiry,
 * size limits and lifecycle hooks. A {@link SessionManager} looks containers up by
 * package id, falling back to its default container.
 *
 * @example
 * ```ts
 * const container = new SessionDataContainer({ store: new SqliteStore({ path: './data/sessions.db' }), timeout: 1800 });
 * ```
 */
export class SessionDataContainer {
  readonly store: SessionStore;
  readonly timeout: number;
  readonly resolution: number;
  readonly maxSessionBytes: number;
  readonly maxPackages: number;
  readonly maxKeysPerPackage: number;
  readonly codec: SessionCodec;
  readonly clock: Clock;
  /** Seconds between this container's timed sweeps; 0: none (see `SessionDataContainerOptions.sweepIntervalSeconds`). */
  readonly sweepIntervalSeconds: number;
  /** The caps every commit carries to the store (which checks them atomically). */
  readonly caps: SessionCaps;
  /**
   * True when `data.increment` is merged by the store: it applies `EntryWrite.add`
   * (`capabilities.increments`) and the codec writes integers as JSON does, the form the
   * store adds to.
   */
  readonly mergesIncrements: boolean;
  /** True when any conflict resolver is registered (so a conflicting commit is worth merging). */
  readonly hasResolvers: boolean;
  readonly #limit: SessionLimit | undefined;
  readonly #resolvers: SessionDataContainerOptions['resolvers'];
  readonly #hooks: Pick<SessionDataContainerOptions, 'onStart' | 'onEnd' | 'onHookError'>;
  /** Store calls made through this container since it was created, by kind (for the admin page's rates). */
  readonly operations = { loads: 0, commits: 0, destroys: 0, sweeps: 0 };
  readonly #sweeper: NodeJS.Timeout | undefined;
  /** The telemetry's reporter; undefined (the common case) means no telemetry call at all. */
  readonly #probe: TelemetryProbe | undefined;

  /** @throws SessionConfigError for negative times or a limit the store cannot honour. */
  constructor(options: SessionDataContainerOptions) {
    const { store, timeout = 3600, resolution = 600, limit, maxSessionBytes = 1_048_576 } = options;
    checkOptions(options, timeout, resolution, maxSessionBytes);
    this.store = store;
    this.timeout = timeout;
    this.resolution = resolution;
    this.maxSessionBytes = maxSessionBytes;
    this.maxPackages = options.maxPackages ?? 100;
    this.maxKeysPerPackage = options.maxKeysPerPackage ?? 1000;
    this.codec = options.codec ?? jsonCodec;
    this.clock = options.clock ?? systemClock;
    this.caps = {
      maxBytes: maxSessionBytes,
      maxPackages: this.maxPackages,
      maxKeysPerPackage: this.maxKeysPerPackage,
    };
    this.mergesIncrements = store.capabilities.increments === true && writesJsonIntegers(this.codec);
    this.#limit = limit;
    this.#resolvers = options.resolvers;
    this.hasResolvers = options.resolvers !== undefined && Object.keys(options.resolvers).length > 0;
    this.#hooks = options;
    this.#probe = options.telemetry?.probe(store);
    const interval = sweepInterval(options);
    this.sweepIntervalSeconds = interval;
    if (interval > 0) {
      const onError = options.onSweepError ?? console.error;
      this.#sweeper = setInterval(() => this.sweep().catch(onError), interval * 1000);
      this.#sweeper.unref();
    }
  }

  /** The resolver registered for `pkg › key` (the key's own, else the package's), if any. */
  resolverFor(pkg: string, key: string): ConflictResolver | undefined {
    const registered = this.#resolvers && Object.hasOwn(this.#resolvers, pkg) ? this.#resolvers[pkg] : undefined;
    if (typeof registered === 'function' || registered === undefined) return registered;
    return Object.hasOwn(registered, key) ? registered[key] : undefined;
  }

  /** Stops the sweep timer. The store stays open: close it with `manager.close()` or `store.close()`. */
  close(): void {
    clearInterval(this.#sweeper);
  }

  /**
   * True when {@link loadNow} answers: the store loads synchronously (`SessionStore.loadNow`),
   * and the telemetry, if any, can time a synchronous call (`TelemetryProbe.storeCallNow`).
   */
  get loadsNow(): boolean {
    return this.store.loadNow !== undefined && (this.#probe === undefined || this.#probe.storeCallNow !== undefined);
  }

  /** {@link load} without a promise, when {@link loadsNow}. Throws what the store throws. */
  loadNow(clientKey: string): StoredSession | undefined {
    this.operations.loads++;
    const now = this.clock();
    const store = this.store as SessionStore & Required<Pick<SessionStore, 'loadNow'>>;
    const probe = this.#probe;
    // The closure only with telemetry, as in `load`.
    const record = probe?.storeCallNow
      ? probe.storeCallNow('load', () => store.loadNow(clientKey, now))
      : store.loadNow(clientKey, now);
    return this.#live(record, now);
  }

  /** The client's live record, or undefined when it has none or it has expired (SPEC 24, 26). */
  async load(clientKey: string): Promise<StoredSession | undefined> {
    this.operations.loads++;
    const now = this.clock();
    const probe = this.#probe;
    // The closure only with telemetry: a container without it allocates nothing more per call.
    const record = await (probe
      ? probe.storeCall('load', () => this.store.load(clientKey, now))
      : this.store.load(clientKey, now));
    return this.#live(record, now);
  }

  /** The loaded record unless the container's own timeout has passed (SPEC 24, 26). */
  #live(record: StoredSession | undefined, now: number): StoredSession | undefined {
    return record && !this.isExpired(record, now) ? record : undefined;
  }

  /** True when `L < now - timeout - resolution`: the record always survives `timeout` after its last access. */
  isExpired(record: Pick<StoredSession, 'lastAccess'>, now = this.clock()): boolean {
    return this.timeout > 0 && record.lastAccess < now - this.timeout - this.resolution;
  }

  /** The touch to send when the stored last-access time is older than one resolution (SPEC 23, 25), else undefined. */
  touchFor(record: undefined, now?: number): Touch;
  touchFor(record: Pick<StoredSession, 'lastAccess'> | undefined, now?: number): Touch | undefined;
  touchFor(record: Pick<StoredSession, 'lastAccess'> | undefined, now = this.clock()): Touch | undefined {
    if (record !== undefined && (this.timeout === 0 || record.lastAccess + this.resolution >= now)) {
      return undefined;
    }
    return { lastAccess: now, expiresAt: this.timeout === 0 ? null : now + this.timeout + this.resolution };
  }

  /**
   * Commits a delta to the store, with this container's caps (and its limit, for a
   * create): the store refuses a commit past a cap with `SessionTooLargeError`, writing
   * nothing. A touch-only commit of a session that a concurrent request ended is dropped
   * quietly: nothing was lost, and nothing is resurrected.
   */
  async commit(clientKey: string, delta: SessionDelta): Promise<CommitResult> {
    this.operations.commits++;
    const withCaps: SessionDelta =
      delta.create && this.#limit ? { ...delta, caps: this.caps, limit: this.#limit } : { ...delta, caps: this.caps };
    try {
      const now = this.clock();
      const probe = this.#probe;
      const result = await (probe
        ? probe.storeCall('commit', () => this.store.commit(clientKey, withCaps, now))
        : this.store.commit(clientKey, withCaps, now));
      if (delta.create) this.#fire('onStart', clientKey);
      if (delta.replaces !== undefined) this.#fire('onEnd', delta.replaces, 'regenerated');
      for (const key of result.evicted) this.#fire('onEnd', key, 'evicted');
      return result;
    } catch (error) {
      if (isTouchOnly(delta) && error instanceof ConflictError && error.reason === 'gone') return { evicted: [] };
      throw error;
    }
  }

  /**
   * The request-side pre-check of `maxSessionBytes` (SPEC 38), by the store's own rule
   * (`checkCap`): throws `SessionTooLargeError` when the session as this request sees it
   * would end over the cap at `bytes` and grew from `before` (asked only then). It lets
   * a request with several containers fail before any of them is written; the store's
   * check, against the record as stored, is the authoritative one.
   */
  checkSize(bytes: number, before: number | (() => number)): void {
    checkCap('bytes', bytes, this.maxSessionBytes, before);
  }

  /** Deletes a client's record, reporting `reason` to `onEnd` when there was one. */
  async destroy(clientKey: string, reason: SessionEndReason): Promise<boolean> {
    this.operations.destroys++;
    const probe = this.#probe;
    const existed = await (probe
      ? probe.storeCall('destroy', () => this.store.destroy(clientKey))
      : this.store.destroy(clientKey));
    if (existed) this.#fire('onEnd', clientKey, reason);
    return existed;
  }

  /** Removes every expired record from the store; resolves how many (SPEC 27). */
  sweep(): Promise<number> {
    this.operations.sweeps++;
    const now = this.clock();
    const options: SweepOptions = {
      ...((this.#hooks.onEnd || this.#probe) && {
        onRemoved: (keys: readonly string[]) => {
          for (const key of keys) this.#fire('onEnd', key, 'expired');
        },
      }),
    };
    const probe = this.#probe;
    return probe ? probe.storeCall('sweep', () => this.store.sweep(now, options)) : this.store.sweep(now, options);
  }

  #fire(hook: 'onStart', key: string): void;
  #fire(hook: 'onEnd', key: string, reason: SessionEndReason): void;
  #fire(hook: 'onStart' | 'onEnd', key: string, reason?: SessionEndReason): void {
    if (hook === 'onStart') this.#probe?.sessionStarted();
    else this.#probe?.sessionEnded(reason as SessionEndReason);
    try {
      if (hook === 'onStart') this.#hooks.onStart?.(key);
      else this.#hooks.onEnd?.(key, reason as SessionEndReason);
    } catch (error) {
      (this.#hooks.onHookError ?? console.error)(error);
    }
  }
}

/** True when the codec encodes and decodes integers as JSON does (what a store adds increments to). */
function writesJsonIntegers(codec: SessionCodec): boolean {
  try {
    return codec.encode(-42, ['', '']) === '-42' && codec.decode('1234') === 1234;
  } catch {
    return false;
  }
}

function isTouchOnly(delta: SessionDelta): boolean {
  return !delta.create && !delta.clear && delta.writes.length === 0;
}

/** The sweep interval in seconds: the option, else the default for the store (see `sweepIntervalSeconds`). */
function sweepInterval(options: SessionDataContainerOptions): number {
  return options.sweepIntervalSeconds ?? (options.store.capabilities.selfExpiring ? 0 : DEFAULT_SWEEP_INTERVAL);
}

function checkOptions(
  options: SessionDataContainerOptions,
  timeout: number,
  resolution: number,
  maxSessionBytes: number,
): void {
  const fail = (message: string): never => {
    throw new SessionConfigError(`SessionDataContainer: ${message}`);
  };
  if (!options.store) fail('`store` is required, e.g. `new MemoryStore()` or `new SqliteStore({ path })`');
  if (!(timeout >= 0 && Number.isFinite(timeout))) fail('`timeout` must be a number of seconds ≥ 0 (0 = never expire)');
  if (!(resolution >= 0 && Number.isFinite(resolution))) fail('`resolution` must be a number of seconds ≥ 0');
  if (!(maxSessionBytes > 0)) fail('`maxSessionBytes` must be > 0');
  for (const cap of ['maxPackages', 'maxKeysPerPackage'] as const) {
    const value = options[cap];
    if (value !== undefined && !(Number.isInteger(value) && value > 0)) fail(`\`${cap}\` must be a positive integer`);
  }
  const interval = options.sweepIntervalSeconds ?? 0;
  if (!(interval >= 0 && Number.isFinite(interval)))
    fail('`sweepIntervalSeconds` must be a number of seconds ≥ 0 (0 = off)');
  if (interval > 0 && options.store.capabilities?.listing === false)
    fail(
      'this store cannot list sessions, so it cannot be swept (it expires them itself); set `sweepIntervalSeconds: 0`',
    );
  const limit = options.limit;
  if (limit) {
    if (!(Number.isInteger(limit.max) && limit.max > 0)) fail('`limit.max` must be a positive integer');
    if (limit.policy !== 'reject' && limit.policy !== 'evict') fail("`limit.policy` must be 'reject' or 'evict'");
    if (!options.store.capabilities.limit)
      fail('this store cannot enforce a `limit`; drop the limit or use a store that can');
  }
}
