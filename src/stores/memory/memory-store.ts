import { SessionConfigError, SessionLimitError } from '../../errors.js';
import { commitInProcess, INTERNAL_PACKAGE, isLive, PRINCIPAL_KEY, type RecordMeasure } from '../record.js';
import type {
  CommitResult,
  EntryWrite,
  ScannedSession,
  SessionDelta,
  SessionStore,
  StoreCapabilities,
  StoredEntry,
  StoredSession,
  SweepOptions,
} from '../types.js';
import { ExpiryBuckets } from './expiry-buckets.js';

/** Options of {@link MemoryStore}. Times are in seconds. */
export interface MemoryStoreOptions {
  /**
   * The most records kept. When a new one would pass it, the record closest to
   * expiry (the least recently used) is evicted, so memory stays bounded.
   * @default 100_000
   */
  maxSessions?: number;
  /** Width of the expiry time slices; a sweep visits only the slices that have expired. @default 60 */
  sliceSeconds?: number;
  /**
   * @deprecated The store keeps no timer: its container sweeps it, on the container's
   * clock, firing `onEnd('expired')` (`SessionDataContainerOptions.sweepIntervalSeconds`).
   * Only 0 is accepted, for code written when the store had a timer of its own.
   */
  sweepIntervalSeconds?: 0;
}

/**
 * A stored record: what `load` hands out (replaced by each commit, never mutated, so a
 * loaded snapshot stays stable), with the store's bookkeeping (commit sequence, size)
 * in private fields that no spread or export sees. One object per session, not a
 * wrapper, a session and a measure: at 100k sessions every object counts.
 */
class MemoryRecord implements StoredSession {
  readonly createdAt: number;
  readonly lastAccess: number;
  readonly expiresAt: number | null;
  readonly entries: readonly StoredEntry[];
  readonly #seq: number;
  readonly #bytes: number;
  readonly #packages: number;

  constructor(session: StoredSession, seq: number, measure: RecordMeasure) {
    this.createdAt = session.createdAt;
    this.lastAccess = session.lastAccess;
    this.expiresAt = session.expiresAt;
    this.entries = session.entries;
    this.#seq = seq;
    this.#bytes = measure.bytes;
    this.#packages = measure.packages;
  }

  /** The commit sequence: the number of the last commit with entry writes (see {@link StoredEntry.version}). */
  get seq(): number {
    return this.#seq;
  }

  /** The record's size, kept with it so a commit's caps are checked without measuring every entry. */
  get measure(): RecordMeasure {
    return { bytes: this.#bytes, packages: this.#packages };
  }

  /** Keys held in `pkg` (counted when a commit asks: a session has few entries). */
  keysIn(pkg: string): number {
    let n = 0;
    for (const entry of this.entries) if (entry.pkg === pkg) n++;
    return n;
  }
}

/**
 * Keeps sessions in this process's memory: fast, bounded, and gone on restart. For
 * tests, development and single-process apps that can lose sessions on deploy.
 *
 * @example
 * ```ts
 * const store = new MemoryStore({ maxSessions: 50_000 });
 * ```
 */
export class MemoryStore implements SessionStore {
  readonly capabilities: StoreCapabilities = {
    limit: true,
    atomicRegenerate: true,
    perKeyVersions: true,
    selfExpiring: false,
    increments: true,
    principals: true,
  };
  readonly #records = new Map<string, MemoryRecord>();
  readonly #buckets: ExpiryBuckets;
  readonly #maxSessions: number;
  /** Sessions by user: the keys of the records holding each principal entry (see `PRINCIPAL_KEY`), kept by `#put`/`#delete`. */
  readonly #byPrincipal = new Map<string, Set<string>>();

  /** @throws SessionConfigError for a non-positive bound or slice. */
  constructor(options: MemoryStoreOptions = {}) {
    const { maxSessions = 100_000, sliceSeconds = 60, sweepIntervalSeconds = 0 } = options;
    if (!(Number.isInteger(maxSessions) && maxSessions > 0)) {
      throw new SessionConfigError('MemoryStore: `maxSessions` must be a positive integer');
    }
    if (!(sliceSeconds > 0)) throw new SessionConfigError('MemoryStore: `sliceSeconds` must be > 0');
    if (sweepIntervalSeconds !== 0) {
      throw new SessionConfigError(
        "MemoryStore: the store has no sweep timer of its own; set the container's `sweepIntervalSeconds` instead",
      );
    }
    this.#maxSessions = maxSessions;
    this.#buckets = new ExpiryBuckets(sliceSeconds);
  }

  /** Records held, live or not yet swept. */
  get size(): number {
    return this.#records.size;
  }

  async load(key: string, now: number): Promise<StoredSession | undefined> {
    return this.#live(key, now);
  }

  /** {@link load} without a promise: nothing here waits. */
  loadNow(key: string, now: number): StoredSession | undefined {
    return this.#live(key, now);
  }

  #live(key: string, now: number): StoredSession | undefined {
    const record = this.#records.get(key);
    return record && isLive(record, now) ? record : undefined;
  }

  async commit(key: string, delta: SessionDelta, now: number): Promise<CommitResult> {
    const replaced = delta.replaces === undefined ? undefined : this.#records.get(delta.replaces);
    const { record, seq, measure, writes } = commitInProcess(delta, now, this.#records.get(key), replaced, (live) => ({
      measure: (live as MemoryRecord).measure,
      keysIn: (pkg) => (live as MemoryRecord).keysIn(pkg),
    }));
    const evicted = delta.create ? this.#makeRoom(key, delta, now) : [];
    if (delta.replaces !== undefined) this.#delete(delta.replaces);
    this.#put(
      key,
      new MemoryRecord(record, seq, measure),
      delta.create || delta.clear === true || writes.some(isPrincipalWrite),
    );
    return { evicted };
  }

  async destroy(key: string): Promise<boolean> {
    return this.#delete(key);
  }

  async sweep(now: number, options: SweepOptions = {}): Promise<number> {
    const removed = this.#buckets.takeExpired(now, (key) => {
      const record = this.#records.get(key);
      return record !== undefined && !isLive(record, now);
    });
    for (const key of removed) {
      this.#unindex(key, this.#records.get(key));
      this.#records.delete(key);
    }
    if (removed.length > 0) options.onRemoved?.(removed);
    return removed.length;
  }

  async *scan(now: number): AsyncIterable<ScannedSession> {
    for (const [key, record] of [...this.#records]) {
      if (isLive(record, now)) {
        const { createdAt, lastAccess, expiresAt, entries } = record;
        yield { key, createdAt, lastAccess, expiresAt, entries };
      }
    }
  }

  /** The principal's live records, from the index: the cost is that principal's records. */
  async findByPrincipal(encoded: string, now: number): Promise<ScannedSession[]> {
    const found: ScannedSession[] = [];
    for (const key of this.#byPrincipal.get(encoded) ?? []) {
      const record = this.#records.get(key);
      if (record === undefined || !isLive(record, now)) continue;
      const { createdAt, lastAccess, expiresAt, entries } = record;
      found.push({ key, createdAt, lastAccess, expiresAt, entries });
    }
    return found;
  }

  /** Live records. Expired ones are left for `sweep`, so its `onRemoved` still reports them. */
  async count(now: number): Promise<number> {
    return this.#records.size - this.#buckets.countExpired(now, (key) => !this.#isLive(key, now));
  }

  /** Nothing to release: the store has no timer or connection. */
  async close(): Promise<void> {}

  /**
   * Frees a place for a new record under the store's bound and the delta's limit;
   * returns evicted keys. The record under `key` (expired, or the create would have
   * failed) and the one `replaces` names are about to go, so they never count.
   */
  #makeRoom(key: string, delta: SessionDelta, now: number): string[] {
    const spared = new Set(delta.replaces === undefined ? [key] : [key, delta.replaces]);
    const others = () => {
      let n = this.#records.size;
      for (const k of spared) if (this.#records.has(k)) n--;
      return n;
    };
    const limit = delta.limit;
    if (limit && others() >= limit.max) void this.sweep(now);
    if (limit?.policy === 'reject' && others() >= limit.max) throw new SessionLimitError(limit.max);
    const cap = Math.min(this.#maxSessions, limit?.max ?? Number.POSITIVE_INFINITY);
    const evicted: string[] = [];
    while (others() >= cap) {
      const victim = this.#buckets.soonest(spared, (k) => this.#records.get(k)?.expiresAt);
      if (victim === undefined) break;
      this.#delete(victim);
      evicted.push(victim);
    }
    return evicted;
  }

  #isLive(key: string, now: number): boolean {
    const record = this.#records.get(key);
    return record !== undefined && isLive(record, now);
  }

  /** Stores a record; `reindex` when its principal entry may have changed (else the index is left as it is). */
  #put(key: string, record: MemoryRecord, reindex: boolean): void {
    const previous = this.#records.get(key);
    this.#buckets.move(key, previous?.expiresAt, record.expiresAt);
    if (reindex) {
      const before = previous && principalOf(previous);
      const after = principalOf(record);
      if (before !== after) {
        this.#unindex(key, previous);
        if (after !== undefined) this.#index(after).add(key);
      }
    }
    this.#records.set(key, record);
  }

  #index(encoded: string): Set<string> {
    let keys = this.#byPrincipal.get(encoded);
    if (keys === undefined) this.#byPrincipal.set(encoded, (keys = new Set()));
    return keys;
  }

  /** Drops `key` from the index entry of the principal `record` holds, if any. */
  #unindex(key: string, record: MemoryRecord | undefined): void {
    const encoded = record && principalOf(record);
    const keys = encoded === undefined ? undefined : this.#byPrincipal.get(encoded);
    if (keys === undefined) return;
    keys.delete(key);
    if (keys.size === 0) this.#byPrincipal.delete(encoded as string);
  }

  #delete(key: string): boolean {
    const record = this.#records.get(key);
    if (!record) return false;
    this.#buckets.move(key, record.expiresAt, undefined);
    this.#unindex(key, record);
    return this.#records.delete(key);
  }
}

function isPrincipalWrite(write: EntryWrite): boolean {
  return write.key === PRINCIPAL_KEY && write.pkg === INTERNAL_PACKAGE;
}

/** The encoded principal a record holds (its `PRINCIPAL_KEY` entry), if any. */
function principalOf(record: StoredSession): string | undefined {
  for (const e of record.entries) if (e.key === PRINCIPAL_KEY && e.pkg === INTERNAL_PACKAGE) return e.value;
  return undefined;
}
