import { ConflictError, SessionConfigError, SessionLimitError } from '../../errors.js';
import { applyEntryWrites, holdsExactly } from '../apply-delta.js';
import type {
  CommitResult,
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
   * Sweep expired records on a timer this often (unref'd, so it never keeps the
   * process alive); 0 turns the timer off. The timer uses the system clock.
   * @default 60
   */
  sweepIntervalSeconds?: number;
}

interface MemoryRecord {
  /** What `load` hands out: replaced, never mutated, so a loaded snapshot stays stable. */
  readonly session: StoredSession;
  /** The commit sequence: the number of the last commit with entry writes (see {@link StoredEntry.version}). */
  readonly seq: number;
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
  };
  readonly #records = new Map<string, MemoryRecord>();
  readonly #buckets: ExpiryBuckets;
  readonly #maxSessions: number;
  readonly #timer: NodeJS.Timeout | undefined;

  /** @throws SessionConfigError for a non-positive bound or slice. */
  constructor(options: MemoryStoreOptions = {}) {
    const { maxSessions = 100_000, sliceSeconds = 60, sweepIntervalSeconds = 60 } = options;
    if (!(Number.isInteger(maxSessions) && maxSessions > 0)) {
      throw new SessionConfigError('MemoryStore: `maxSessions` must be a positive integer');
    }
    if (!(sliceSeconds > 0)) throw new SessionConfigError('MemoryStore: `sliceSeconds` must be > 0');
    this.#maxSessions = maxSessions;
    this.#buckets = new ExpiryBuckets(sliceSeconds);
    if (sweepIntervalSeconds > 0) {
      this.#timer = setInterval(() => void this.sweep(Date.now() / 1000), sweepIntervalSeconds * 1000);
      this.#timer.unref();
    }
  }

  /** Records held, live or not yet swept. */
  get size(): number {
    return this.#records.size;
  }

  async load(key: string, now: number): Promise<StoredSession | undefined> {
    const record = this.#records.get(key);
    return record && isLive(record, now) ? record.session : undefined;
  }

  async commit(key: string, delta: SessionDelta, now: number): Promise<CommitResult> {
    const existing = this.#records.get(key);
    const live = existing && isLive(existing, now) ? existing : undefined;
    if (delta.create ? live !== undefined : live === undefined) {
      throw new ConflictError(delta.create ? 'exists' : 'gone');
    }
    if (delta.replaces !== undefined) {
      const replaced = this.#records.get(delta.replaces);
      if (replaced === undefined || !isLive(replaced, now)) throw new ConflictError('gone');
      // A write to the old record since the regenerate loaded it would be deleted with it.
      if (!holdsExactly(replaced.session.entries, delta.replacesEntries)) throw new ConflictError('version');
    }
    const { entries, seq } = applyEntryWrites(live?.session.entries ?? [], delta, live?.seq ?? 0);
    const evicted = delta.create ? this.#makeRoom(key, delta, now) : [];
    if (delta.replaces !== undefined) this.#delete(delta.replaces);
    const previous = live?.session;
    const session: StoredSession = {
      createdAt: previous?.createdAt ?? now,
      lastAccess: Math.max(previous?.lastAccess ?? 0, delta.touch?.lastAccess ?? 0),
      expiresAt:
        delta.touch === undefined
          ? (previous as StoredSession).expiresAt
          : laterExpiry(previous, delta.touch.expiresAt),
      entries,
    };
    this.#put(key, { session, seq });
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
    for (const key of removed) this.#records.delete(key);
    if (removed.length > 0) options.onRemoved?.(removed);
    return removed.length;
  }

  async *scan(now: number): AsyncIterable<ScannedSession> {
    for (const [key, record] of [...this.#records]) {
      if (isLive(record, now)) yield { key, ...record.session };
    }
  }

  /** Live records. Expired ones are left for `sweep`, so its `onRemoved` still reports them. */
  async count(now: number): Promise<number> {
    return this.#records.size - this.#buckets.countExpired(now, (key) => !this.#isLive(key, now));
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
  }

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
      const victim = this.#buckets.soonest(spared, (k) => this.#records.get(k)?.session.expiresAt);
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

  #put(key: string, record: MemoryRecord): void {
    const previous = this.#records.get(key);
    this.#buckets.move(key, previous?.session.expiresAt, record.session.expiresAt);
    this.#records.set(key, record);
  }

  #delete(key: string): boolean {
    const record = this.#records.get(key);
    if (!record) return false;
    this.#buckets.move(key, record.session.expiresAt, undefined);
    return this.#records.delete(key);
  }
}

function isLive(record: MemoryRecord, now: number): boolean {
  const { expiresAt } = record.session;
  return expiresAt === null || now <= expiresAt;
}

/** Two concurrent touches keep the later expiry (SPEC 30). */
function laterExpiry(live: StoredSession | undefined, next: number | null): number | null {
  if (live === undefined || next === null || live.expiresAt === null) return next;
  return Math.max(live.expiresAt, next);
}
