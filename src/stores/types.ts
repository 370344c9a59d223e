/**
 * The narrow interface every storage backend implements. It is session-shaped, not a
 * generic key-value API: a store keeps, per client key, a small record (last-access
 * time, expiry) and one entry per (package id, key) with a version, and applies a
 * request's changes as one atomic delta.
 *
 * Times are seconds since the epoch (fractions allowed); `now` is always passed in, so
 * stores never read a clock of their own.
 *
 * Required: `load`, `commit`, `destroy`, `sweep`, `scan`, `close`.
 * Optional: `count` (needed for `stats` and for a container `limit`), `importBatch` (bulk import).
 *
 * @module
 */

/** One stored value of a (package id, key) pair. */
export interface StoredEntry {
  /** The package id, e.g. `products.cart`. */
  readonly pkg: string;
  /** The key within the package. */
  readonly key: string;
  /** The codec's encoding of the value. */
  readonly value: string;
  /**
   * The number of the commit that last set this entry, counted per record: each record
   * keeps a commit sequence `seq` (0 when created), and every commit with at least one
   * entry write (a set or a delete) takes `seq + 1` as its number, stores it back as
   * `seq`, and gives it as the version of every entry it sets. So within one record a
   * version never repeats for a key, not even after the entry was deleted or cleared and
   * written again, and a commit whose `expectVersion` was read before such a delete and
   * rewrite fails. A new record counts from 0, so its first commit with writes gives 1;
   * a record created over an expired one or by a regenerate is new. Commits with no
   * entry writes (a touch, a clear alone) take no number.
   */
  readonly version: number;
}

/** A client's live record in one store. */
export interface StoredSession {
  /** When the record was created. */
  readonly createdAt: number;
  /** The last-access time L the container last wrote. */
  readonly lastAccess: number;
  /** The record is dead once `now > expiresAt`; `null` never expires. */
  readonly expiresAt: number | null;
  /** Every entry of the record, in no particular order. */
  readonly entries: readonly StoredEntry[];
}

/** A change to one entry. */
export interface EntryWrite {
  readonly pkg: string;
  readonly key: string;
  /** The new encoding, or `undefined` to delete the entry. */
  readonly value: string | undefined;
  /**
   * When present, the commit fails with `ConflictError('version')` unless the stored
   * version equals it; `0` means the entry must not exist. Absent for blind writes.
   */
  readonly expectVersion?: number;
  /**
   * A commutative increment: when present, the store sets the entry to the integer it
   * holds (0 when absent) plus `add`, atomically, whatever other commits did meanwhile
   * (`resolveIncrements` in `stores/record.ts`). `value` then carries the request's own
   * view of the result (what a store without `capabilities.increments` writes as a blind
   * write). Never carries an `expectVersion`.
   */
  readonly add?: number;
}

/** A record's new last-access time and expiry (`null`: never expires). */
export interface Touch {
  readonly lastAccess: number;
  readonly expiresAt: number | null;
}

/**
 * The container's caps on one session, checked by the store against the record AS
 * STORED, in the same atomic step as the write (`checkCaps` in `stores/record.ts`): a
 * commit that leaves a count over its cap and grew it fails with `SessionTooLargeError`
 * and writes nothing; one that only touches or shrinks always passes.
 */
export interface SessionCaps {
  /** The most UTF-8 bytes of package ids, keys and encoded values (`maxSessionBytes`). */
  readonly maxBytes: number;
  /** The most packages holding data, the internal one not counted. */
  readonly maxPackages: number;
  /** The most keys in one package. */
  readonly maxKeysPerPackage: number;
}

/** What every delta has. */
interface DeltaBase {
  /** The entries to write or delete. */
  readonly writes: readonly EntryWrite[];
  /** The caps to hold the record to; absent: none (e.g. an import or a test). */
  readonly caps?: SessionCaps;
}

/** A delta that updates a live record; if there is none the commit fails with `ConflictError('gone')`. */
export interface UpdateDelta extends DeltaBase {
  /** Not a create: an ended or expired session is never resurrected. */
  readonly create: false;
  /** A new last-access time and expiry; the store keeps the later of each (racing touches). */
  readonly touch?: Touch;
  /** Remove every existing entry before applying `writes`. */
  readonly clear?: boolean;
  readonly replaces?: undefined;
  readonly replacesEntries?: undefined;
  readonly limit?: undefined;
  readonly createdAt?: undefined;
}

/** What a creating delta has, whether or not it replaces a record. */
interface CreateBase extends DeltaBase {
  /** Creates the record (its key was issued in this request); a live one under the key fails with `ConflictError('exists')`. */
  readonly create: true;
  /** The new record's last-access time and expiry: required. */
  readonly touch: Touch;
  /** The container's cap on live records. Requires `capabilities.limit`. */
  readonly limit?: SessionLimit;
  /** When the record was created, for an import; absent: the commit's `now`. */
  readonly createdAt?: number;
  readonly clear?: undefined;
}

/** A delta that creates a new record. */
export interface NewRecordDelta extends CreateBase {
  readonly replaces?: undefined;
  readonly replacesEntries?: undefined;
}

/** A delta that creates a record replacing another one (regenerate), deleted in the same commit. */
export interface ReplacingDelta extends CreateBase {
  /** The record this one replaces; if it is already gone the commit fails with `ConflictError('gone')`. */
  readonly replaces: string;
  /**
   * The entries of the replaced record as this request loaded them (package id, key and
   * version; values are not compared). The commit fails with `ConflictError('version')`,
   * having written nothing, unless the replaced record holds exactly these entries at
   * these versions: no entry added, deleted or rewritten since the load. So a write to the
   * old record acknowledged between a regenerate's load and its commit is never deleted
   * with the old record. Absent: the replaced record is only checked to be live.
   */
  readonly replacesEntries?: readonly ReplacedEntry[] | undefined;
}

/** A delta that creates a record: a new one, or one replacing another (regenerate). */
export type CreateDelta = NewRecordDelta | ReplacingDelta;

/**
 * What a container asks a store to apply, atomically, to one client's record: a create
 * (with its touch, maybe replacing a record) or an update of a live record. The rules a
 * store applies are in `stores/record.ts`.
 */
export type SessionDelta = CreateDelta | UpdateDelta;

/** One entry of a replaced record as a regenerate loaded it: see {@link SessionDelta.replacesEntries}. */
export interface ReplacedEntry {
  readonly pkg: string;
  readonly key: string;
  readonly version: number;
}

/** A cap on live sessions in a container, and what to do when it is reached. */
export interface SessionLimit {
  /** The most live records allowed. */
  readonly max: number;
  /** `reject` fails the creating commit with `SessionLimitError`; `evict` removes the least recently used record. */
  readonly policy: 'reject' | 'evict';
}

/** What a successful commit reports back. */
export interface CommitResult {
  /** Keys of records removed to make room under an `evict` limit. */
  readonly evicted: readonly string[];
}

/** Options of {@link SessionStore.sweep}. */
export interface SweepOptions {
  /** Called with the keys of each batch removed, e.g. to fire `onEnd` hooks. */
  readonly onRemoved?: (keys: readonly string[]) => void;
}

/** A record to write as it was exported, for {@link SessionStore.importBatch}. */
export interface ImportedRecord {
  readonly key: string;
  readonly createdAt: number;
  readonly lastAccess: number;
  readonly expiresAt: number | null;
  readonly entries: readonly Pick<StoredEntry, 'pkg' | 'key' | 'value'>[];
}

/** Options of {@link SessionStore.importBatch}. */
export interface ImportBatchOptions {
  /** Replace a record already under the key (live or not) instead of keeping it. */
  readonly replace: boolean;
}

/** A record with its key, as {@link SessionStore.scan} yields it. */
export interface ScannedSession extends StoredSession {
  readonly key: string;
}

/** What a store can do beyond the required methods. */
export interface StoreCapabilities {
  /** Honours {@link SessionDelta.limit} and implements `count`. */
  readonly limit: boolean;
  /** Applies a regenerate (`replaces`) atomically with the new record. */
  readonly atomicRegenerate: boolean;
  /** Keeps per-entry versions, so concurrent changes to different keys merge and same-key races are detected. */
  readonly perKeyVersions: boolean;
  /**
   * Reclaims expired records by itself and needs no sweep (e.g. an express-session store's own
   * expiry); `sweep` may then do little. False when only a sweep reports expiries, as for
   * Redis, whose key TTLs reclaim the data but whose sweep reports it and clears its expiry index.
   */
  readonly selfExpiring: boolean;
  /**
   * Can list its records, so `scan`, `count` and `sweep` work. False for a store that can
   * only look a record up by its key (`ConnectStore` over an express-session store without
   * a usable `all()`): those methods then throw `StoreUnsupportedError`, and the store
   * must be `selfExpiring`. Absent means true.
   */
  readonly listing?: boolean;
  /** Applies {@link EntryWrite.add} atomically (absent: false, and `data.increment` falls back to a checked write). */
  readonly increments?: boolean;
  /** Indexes records by principal and implements {@link SessionStore.findByPrincipal} (absent: false). */
  readonly principals?: boolean;
}

/**
 * A storage backend. Every method may throw `StoreUnavailableError` when the backend
 * cannot be reached; `commit` throws `ConflictError` or `SessionLimitError` as its
 * contract says, and then has written nothing.
 */
export interface SessionStore {
  readonly capabilities: StoreCapabilities;
  /** The client's record if it exists and `now <= expiresAt`, in one round trip. */
  load(key: string, now: number): Promise<StoredSession | undefined>;
  /**
   * The same answer as {@link load}, returned rather than promised, for a store whose load
   * does no I/O the event loop must wait for (memory, SQLite). Optional: when present, the
   * container reads through it, and a request's read saves the promises of every layer
   * between the handler and the store. Throws where `load` would reject.
   */
  loadNow?(key: string, now: number): StoredSession | undefined;
  /** Applies a delta atomically: all of it, or nothing. */
  commit(key: string, delta: SessionDelta, now: number): Promise<CommitResult>;
  /** Deletes a record. Resolves true when there was one. */
  destroy(key: string): Promise<boolean>;
  /** Deletes every record with `expiresAt < now`, in batches; resolves how many. Costs the expired records, not all of them. */
  sweep(now: number, options?: SweepOptions): Promise<number>;
  /** Every live record, streamed in batches (for export and admin listing). */
  scan(now: number): AsyncIterable<ScannedSession>;
  /** The number of live records. */
  count?(now: number): Promise<number>;
  /**
   * The live records whose `PRINCIPAL_KEY` entry (in the internal package) holds
   * exactly `encoded`, through an index: the cost is the principal's records, not the
   * store's. Never yields an expired or destroyed record. Requires `capabilities.principals`.
   */
  findByPrincipal?(encoded: string, now: number): Promise<ScannedSession[]>;
  /**
   * Optional bulk path of an import: writes each record as a creating commit with its own
   * `createdAt` would (an expired record under the key is replaced; a live one is kept
   * unless `replace`), many per round trip. Records are live at `now` and their keys
   * distinct. Resolves, per record in order, true when it was written, false when a
   * live record was kept. A store without it is imported one commit per record.
   */
  importBatch?(records: readonly ImportedRecord[], now: number, options: ImportBatchOptions): Promise<boolean[]>;
  /** Releases connections and timers the store owns (never a client the app passed in). */
  close(): Promise<void>;
}
