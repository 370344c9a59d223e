import { SessionConfigError, StoreUnsupportedError } from '../../errors.js';
import { commitInProcess, isLive } from '../record.js';
import type {
  CommitResult,
  ScannedSession,
  SessionDelta,
  SessionStore,
  StoreCapabilities,
  StoredSession,
  SweepOptions,
} from '../types.js';
import { type BlobRecord, fromBlob, toBlob } from './blob.js';
import { type ConnectCompatibleStore, callStore } from './callbacks.js';
import { KeyLock } from './key-lock.js';

/** Options of {@link ConnectStore}. Times are in seconds. */
export interface ConnectStoreOptions {
  /** The express-session store to keep sessions in, e.g. connect-redis's `RedisStore`. Never closed by tsession. */
  store: ConnectCompatibleStore;
  /**
   * How long one call to the underlying store may take before it fails with
   * `StoreUnavailableError`. The callback API cannot cancel a call, so a `set` that
   * timed out may still be applied later by the underlying store.
   * @default 5
   */
  timeoutSeconds?: number;
  /**
   * Extra seconds the underlying store keeps a record past its `expiresAt` before its
   * own expiry reclaims it, so that `sweep` (when the store can list) still sees and
   * reports it. A record is dead at `expiresAt` either way.
   * @default 60
   */
  graceSeconds?: number;
  /**
   * Whether tsession may list sessions through the store's `all()` (for `scan`, `count`,
   * `sweep`: export, the CLI's `list`, the admin listing). Say `false` for a store whose
   * `all()` is not usable, e.g. connect-sqlite3's, which returns sessions without their ids;
   * those methods then throw `StoreUnsupportedError` and `capabilities.listing` is false.
   * @default true when the store has an `all()` (connect-pg-simple and session-file-store have none)
   */
  listing?: boolean;
}

const SWEEP_BATCH = 100;

/**
 * Runs tsession over any express-session-compatible store (connect-redis,
 * connect-pg-simple, memorystore, express-session's `MemoryStore`, ...). Each client's
 * record is ONE session blob `{ createdAt, lastAccess, expiresAt, entries, seq, cookie }`,
 * and `cookie.expires`/`maxAge` make the underlying store expire it by itself.
 *
 * **What such a store cannot guarantee.** Its API has no compare-and-set, so a commit
 * is a read (`get`), a version check in this process, and a write of the whole blob
 * (`set`). Commits to one key are serialized within this process, so concurrent
 * requests in ONE process merge different keys and detect same-key races as
 * `ConflictError`, exactly as the other stores do. Across processes or machines,
 * two commits to one session at the same time can lose an update (the later `set`
 * overwrites the earlier one; no per-key merge, no conflict detection), a regenerate
 * is two writes, not one atomic step, and an `invalidate` racing a slower commit
 * elsewhere can be undone by it. (A regenerate checks, under the same per-key
 * serialization, that the old record still holds the entries it loaded, so a write
 * to it from this process is never deleted with it; one from another process may be.) Hence `perKeyVersions: false` and
 * `atomicRegenerate: false`; for several processes, use `tsession/redis` or
 * `tsession/postgres`. **Size caps** (`maxSessionBytes`, `maxPackages`,
 * `maxKeysPerPackage`) are checked against the blob as read, under the same per-key
 * serialization, so they hold against concurrent requests of ONE process only; commits
 * from several processes at once can together pass a cap (each checks a blob the
 * others are about to overwrite). There is no `limit` support.
 *
 * **Listing.** `scan`, `count` and `sweep` need the store's optional `all()`, which reads
 * every session (so a sweep costs all records, not just the expired ones). A store
 * without a usable one (connect-pg-simple and session-file-store have no `all()`;
 * connect-sqlite3's returns sessions without ids, so pass `listing: false`) declares
 * `capabilities.listing: false`, and those three methods throw `StoreUnsupportedError`;
 * reclaiming expired records is then left to the underlying store's own expiry
 * (connect-redis: Redis key TTLs; connect-pg-simple and session-file-store: their prune
 * and reap timers; express-session's `MemoryStore` drops an expired session only when it
 * reads it).
 *
 * **Missing sessions.** A store that reports a missing session as an `ENOENT` error
 * (session-file-store) means "no session", as express-session itself reads it.
 *
 * **connect-redis.** connect-redis 9 supports only the node-redis client (`redis`'s
 * `createClient`), not ioredis; for ioredis, use `tsession/redis` directly.
 *
 * Costs: a load is one `get`; a commit is one `get` and one `set` (a destroy: `get`
 * and `destroy`); a read-only request inside the container's resolution writes nothing.
 *
 * @example
 * ```ts
 * import { RedisStore } from 'connect-redis';
 * import { createClient } from 'redis';
 * const client = await createClient({ url: 'redis://127.0.0.1:6379' }).connect();
 * const store = new ConnectStore({ store: new RedisStore({ client, prefix: 'app:' }) });
 * const container = new SessionDataContainer({ store });
 * ```
 */
export class ConnectStore implements SessionStore {
  readonly capabilities: StoreCapabilities;
  readonly #store: ConnectCompatibleStore;
  readonly #timeoutMs: number;
  readonly #graceSeconds: number;
  readonly #lock = new KeyLock();

  /** @throws SessionConfigError when `store` lacks get/set/destroy (or `all` when `listing`) or a time is not positive. */
  constructor(options: ConnectStoreOptions) {
    const { store, timeoutSeconds = 5, graceSeconds = 60 } = options ?? {};
    const listing = options?.listing ?? typeof store?.all === 'function';
    for (const method of ['get', 'set', 'destroy'] as const) {
      if (typeof store?.[method] !== 'function') {
        throw new SessionConfigError(
          `ConnectStore: \`store\` must be an express-session store with get/set/destroy (missing ${method}), e.g. new RedisStore({ client }) from connect-redis`,
        );
      }
    }
    if (!(timeoutSeconds > 0 && Number.isFinite(timeoutSeconds))) {
      throw new SessionConfigError('ConnectStore: `timeoutSeconds` must be a number of seconds > 0');
    }
    if (!(graceSeconds >= 0 && Number.isFinite(graceSeconds))) {
      throw new SessionConfigError('ConnectStore: `graceSeconds` must be a number of seconds ≥ 0');
    }
    if (typeof listing !== 'boolean') throw new SessionConfigError('ConnectStore: `listing` must be true or false');
    if (listing && typeof store.all !== 'function') {
      throw new SessionConfigError('ConnectStore: `listing: true` needs a store with all(); this one has none');
    }
    this.capabilities = {
      limit: false,
      atomicRegenerate: false,
      perKeyVersions: false,
      selfExpiring: true,
      listing,
      // As atomic as the rest of a commit here: against the commits of this process.
      increments: true,
      // An express-session store has no index to find a user's sessions by, only a full scan.
      principals: false,
    };
    this.#store = store;
    this.#timeoutMs = timeoutSeconds * 1000;
    this.#graceSeconds = graceSeconds;
  }

  async load(key: string, now: number): Promise<StoredSession | undefined> {
    const record = await this.#get(key);
    return record && isLive(record, now) ? withoutSeq(record) : undefined;
  }

  /** Read, check in process, write the whole blob: atomic only against commits of this process (see the class doc). */
  async commit(key: string, delta: SessionDelta, now: number): Promise<CommitResult> {
    if (delta.limit) throw new SessionConfigError('ConnectStore: cannot enforce a container `limit`; drop the limit');
    const keys = delta.replaces === undefined ? [key] : [key, delta.replaces];
    return this.#lock.run(keys, async () => {
      const existing = await this.#get(key);
      const replaced = delta.replaces === undefined ? undefined : await this.#get(delta.replaces);
      // The blob holds every entry, so its size is measured from them: the read is whole anyway.
      const { record: next, seq } = commitInProcess(delta, now, existing, replaced);
      const record: BlobRecord = { ...next, seq };
      await this.#call('set', (cb) => this.#store.set(key, toBlob(record, now, this.#graceSeconds), cb));
      // Not atomic with the set above: a crash in between leaves the old record to expire by itself.
      if (delta.replaces !== undefined) await this.#destroyNow(delta.replaces);
      return { evicted: [] };
    });
  }

  destroy(key: string): Promise<boolean> {
    return this.#lock.run([key], async () => {
      const existed = (await this.#call('get', (cb) => this.#store.get(key, cb))) != null;
      if (existed) await this.#destroyNow(key);
      return existed;
    });
  }

  /**
   * Deletes the records whose `expiresAt < now`, reading every session with `all()` to find them.
   * @throws StoreUnsupportedError when the store cannot list (`capabilities.listing` is false).
   */
  async sweep(now: number, options: SweepOptions = {}): Promise<number> {
    const expired = (await this.#all()).filter(([, r]) => r.expiresAt !== null && r.expiresAt < now).map(([k]) => k);
    let removed = 0;
    for (let start = 0; start < expired.length; start += SWEEP_BATCH) {
      const batch = expired.slice(start, start + SWEEP_BATCH);
      const done = await Promise.all(batch.map((key) => this.#destroyIfExpired(key, now)));
      const keys = batch.filter((_, i) => done[i]);
      removed += keys.length;
      if (keys.length > 0) options.onRemoved?.(keys);
    }
    return removed;
  }

  /** Every live record, read with the store's `all()`. @throws StoreUnsupportedError when the store cannot list. */
  async *scan(now: number): AsyncIterable<ScannedSession> {
    for (const [key, record] of await this.#all()) {
      if (isLive(record, now)) yield { key, ...withoutSeq(record) };
    }
  }

  /** The live records, counted by reading them all with `all()`. @throws StoreUnsupportedError when the store cannot list. */
  async count(now: number): Promise<number> {
    return (await this.#all()).filter(([, record]) => isLive(record, now)).length;
  }

  /** Nothing to release: the express-session store belongs to the app. */
  async close(): Promise<void> {}

  async #get(key: string): Promise<BlobRecord | undefined> {
    return fromBlob(await this.#call('get', (cb) => this.#store.get(key, cb)));
  }

  #destroyNow(key: string): Promise<void> {
    return this.#call('destroy', (cb) => this.#store.destroy(key, cb));
  }

  #destroyIfExpired(key: string, now: number): Promise<boolean> {
    return this.#lock.run([key], async () => {
      const record = await this.#get(key);
      if (!record || record.expiresAt === null || record.expiresAt >= now) return false;
      await this.#destroyNow(key);
      return true;
    });
  }

  async #all(): Promise<[string, BlobRecord][]> {
    const all = this.#store.all;
    if (!this.capabilities.listing || typeof all !== 'function') {
      throw new StoreUnsupportedError(
        'ConnectStore: this express-session store cannot list sessions (no usable all()), so scan, count and sweep (export, list, the admin listing) are not supported; it expires sessions by itself',
      );
    }
    const listed = await this.#call('all', (cb) => all.call(this.#store, cb));
    const pairs: [string, unknown][] = Array.isArray(listed)
      ? listed.map((s) => [String((s as { id?: unknown })?.id ?? ''), s])
      : Object.entries((listed ?? {}) as Record<string, unknown>);
    if (pairs.some(([key]) => key === '')) {
      throw new StoreUnsupportedError(
        'ConnectStore: the store’s all() returned sessions without their ids (connect-sqlite3 does), so listing is not supported; pass `listing: false`',
      );
    }
    return pairs.flatMap(([key, value]) => {
      const record = fromBlob(value);
      return record ? [[key, record] as [string, BlobRecord]] : [];
    });
  }

  #call<T>(operation: string, invoke: (cb: (error?: unknown, result?: T) => void) => unknown): Promise<T> {
    return callStore(operation, this.#timeoutMs, invoke);
  }
}

/** The record as `load` and `scan` give it: the commit sequence stays inside the store. */
function withoutSeq({ seq: _, ...session }: BlobRecord): StoredSession {
  return session;
}
