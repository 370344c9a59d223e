import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type Database from 'better-sqlite3';
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
import { applyCommit, destroyRecord, liveCount } from './apply-commit.js';
import { unavailable } from './errors.js';
import { resolveSqliteOptions, type SqliteStoreOptions } from './options.js';
import { type EntryRow, migrate, prepareStatements, type SessionRow, type Statements } from './schema.js';

/**
 * Keeps sessions in an embedded SQLite database (better-sqlite3): durable across
 * restarts, shared by the processes of one machine, with no server to run. One row
 * per record and one per (package, key) entry with its version; a commit is one
 * IMMEDIATE transaction; expired records are swept in batches through an index on
 * their expiry, so a sweep costs the expired records only.
 *
 * @example
 * ```ts
 * import { SqliteStore } from 'tsession/sqlite';
 *
 * const store = new SqliteStore({ path: './data/sessions.db' });
 * // or share a connection the app owns, with a table prefix per container:
 * const carts = new SqliteStore({ database: db, table: 'carts' });
 * ```
 */
export class SqliteStore implements SessionStore {
  readonly capabilities: StoreCapabilities = {
    limit: true,
    atomicRegenerate: true,
    perKeyVersions: true,
    selfExpiring: false,
    increments: true,
    principals: true,
  };
  /** The connection in use (the app's own, when it passed one). */
  readonly database: Database.Database;
  readonly #owned: boolean;
  readonly #sql: Statements;
  readonly #commit: (key: string, delta: SessionDelta, now: number) => string[];
  readonly #sweepBatch: (now: number, limit: number) => string[];
  readonly #scanPage: (after: string | undefined, now: number) => ScannedSession[];
  readonly #destroy: (key: string) => boolean;
  readonly #byPrincipal: (encoded: string, now: number) => ScannedSession[];
  readonly #sweepBatchSize: number;

  /**
   * Opens (or adopts) the database and creates the tables if they are missing.
   * @throws SessionConfigError for invalid options or tables of a newer format;
   *   StoreUnavailableError when the file cannot be opened.
   */
  constructor(options: SqliteStoreOptions) {
    const resolved = resolveSqliteOptions(options);
    const { db, table, scanBatchSize } = resolved;
    this.database = db;
    this.#owned = resolved.owned;
    this.#sweepBatchSize = resolved.sweepBatchSize;
    try {
      migrate(db, table);
      this.#sql = prepareStatements(db, table);
    } catch (error) {
      if (resolved.owned) db.close();
      throw unavailable(error, 'SqliteStore cannot create its tables');
    }
    const sql = this.#sql;
    const commit = db.transaction((key: string, delta: SessionDelta, now: number) => applyCommit(sql, key, delta, now));
    this.#commit = (key, delta, now) => commit.immediate(key, delta, now);
    const destroy = db.transaction((key: string) => destroyRecord(sql, key));
    this.#destroy = (key) => destroy.immediate(key);
    const sweepBatch = db.transaction((now: number, limit: number) => {
      const keys = sql.expiredKeys.all(now, limit);
      for (const key of keys) destroyRecord(sql, key);
      return keys;
    });
    this.#sweepBatch = (now, limit) => sweepBatch.immediate(now, limit);
    // One deferred (read) transaction per page, so sessions and entries come from one snapshot.
    this.#scanPage = db.transaction((after: string | undefined, now: number) => {
      const params = { now, limit: scanBatchSize };
      const rows = after === undefined ? sql.scanFirst.all(params) : sql.scanAfter.all({ ...params, after });
      return withEntries(rows, sql);
    });
    this.#byPrincipal = db.transaction((encoded: string, now: number) =>
      sql.byPrincipal.all(encoded, now).map((row) => ({
        ...rowSession(row),
        entries: sql.entriesOf
          .all(row.key)
          .map((e) => ({ pkg: e.pkg, key: e.name, value: e.value, version: e.version })),
      })),
    );
  }

  /** The principal's live records, through the partial index on the principal entry: one read transaction. */
  async findByPrincipal(encoded: string, now: number): Promise<ScannedSession[]> {
    return this.#run('findByPrincipal', () => this.#byPrincipal(encoded, now));
  }

  async load(key: string, now: number): Promise<StoredSession | undefined> {
    return this.#load(key, now);
  }

  /** {@link load} without a promise: better-sqlite3 reads synchronously. */
  loadNow(key: string, now: number): StoredSession | undefined {
    return this.#load(key, now);
  }

  #load(key: string, now: number): StoredSession | undefined {
    const rows = this.#run('load', () => this.#sql.load.all({ key, now }));
    const first = rows[0];
    if (first === undefined) return undefined;
    const entries: StoredEntry[] = [];
    for (const row of rows) {
      if (row.pkg != null) {
        entries.push({
          pkg: row.pkg,
          key: row.name as string,
          value: row.value as string,
          version: row.version as number,
        });
      }
    }
    return { createdAt: first.created_at, lastAccess: first.last_access, expiresAt: first.expires_at, entries };
  }

  async commit(key: string, delta: SessionDelta, now: number): Promise<CommitResult> {
    const evicted = this.#run('commit', () => this.#commit(key, delta, now));
    return { evicted };
  }

  async destroy(key: string): Promise<boolean> {
    return this.#run('destroy', () => this.#destroy(key));
  }

  /** Deletes expired records `sweepBatchSize` per transaction, yielding to the event loop between batches. */
  async sweep(now: number, options: SweepOptions = {}): Promise<number> {
    let removed = 0;
    for (;;) {
      const keys = this.#run('sweep', () => this.#sweepBatch(now, this.#sweepBatchSize));
      removed += keys.length;
      if (keys.length > 0) options.onRemoved?.(keys);
      if (keys.length < this.#sweepBatchSize) return removed;
      await yieldToEventLoop();
    }
  }

  /** Streams the live records in key order, `scanBatchSize` per read. */
  async *scan(now: number): AsyncIterable<ScannedSession> {
    let after: string | undefined;
    for (;;) {
      const page = this.#run('scan', () => this.#scanPage(after, now));
      yield* page;
      const last = page.at(-1);
      if (last === undefined) return;
      after = last.key;
      await yieldToEventLoop();
    }
  }

  /** Live records: a counter kept by every commit, minus the expired ones found through the expiry index. */
  async count(now: number): Promise<number> {
    return this.#run('count', () => liveCount(this.#sql, now));
  }

  /** Closes the connection if the store opened it; a `database` the app passed stays open. */
  async close(): Promise<void> {
    if (this.#owned && this.database.open) this.database.close();
  }

  #run<T>(operation: string, fn: () => T): T {
    try {
      return fn();
    } catch (error) {
      throw unavailable(error, `SqliteStore ${operation} failed`);
    }
  }
}

/** Attaches their entries to a page of session rows, read with one range query. */
function withEntries(rows: readonly SessionRow[], sql: Statements): ScannedSession[] {
  const first = rows[0];
  const last = rows.at(-1);
  if (first === undefined || last === undefined) return [];
  const byKey = new Map<string, StoredEntry[]>(rows.map((r) => [r.key, []]));
  for (const e of sql.scanEntries.all(first.key, last.key) as EntryRow[]) {
    byKey.get(e.key)?.push({ pkg: e.pkg, key: e.name, value: e.value, version: e.version });
  }
  return rows.map((r) => ({ ...rowSession(r), entries: byKey.get(r.key) ?? [] }));
}

/** A session row's key and times. */
function rowSession(r: SessionRow): Omit<ScannedSession, 'entries'> {
  return { key: r.key, createdAt: r.created_at, lastAccess: r.last_access, expiresAt: r.expires_at };
}
