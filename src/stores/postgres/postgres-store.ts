import type { Pool, QueryConfig, QueryResultRow } from 'pg';
import { SessionConfigError, SessionStateError } from '../../errors.js';
import { INTERNAL_PACKAGE, PRINCIPAL_KEY } from '../record.js';
import type {
  CommitResult,
  ImportBatchOptions,
  ImportedRecord,
  ScannedSession,
  SessionDelta,
  SessionStore,
  StoreCapabilities,
  StoredEntry,
  StoredSession,
  SweepOptions,
} from '../types.js';
import { mapPostgresError } from './errors.js';
import { importRecords } from './import-batch.js';
import { migrate } from './migrate.js';
import {
  checkConnectionString,
  type PostgresNames,
  type PostgresStoreOptions,
  pgModule,
  positive,
  resolveNames,
} from './options.js';
import { type EntryRow, encodeDelta, type SessionRow, sessionFromRows } from './rows.js';

const OWNER = 'PostgresStore';

/**
 * Keeps sessions in PostgreSQL: one row per client with an indexed expiry, one row per
 * (client, package, key) with a version. A read is one statement, a commit one
 * statement calling a server-side function (one round trip, one transaction), and a
 * sweep deletes expired rows in small batches that skip rows in use.
 *
 * Run {@link PostgresStore.migrate} (or the exported `migrate`) once, e.g. at deploy,
 * before using the store; or pass `autoMigrate: true`.
 *
 * @example
 * ```ts
 * const store = new PostgresStore({ pool, schema: 'app' });
 * await store.migrate();
 * const container = new SessionDataContainer({ store });
 * ```
 */
export class PostgresStore implements SessionStore {
  readonly capabilities: StoreCapabilities = {
    limit: true,
    atomicRegenerate: true,
    perKeyVersions: true,
    selfExpiring: false,
    increments: true,
    principals: true,
  };
  /** The pool the store queries: the app's, or one of its own. */
  readonly pool: Pool;
  readonly #ownsPool: boolean;
  readonly #names: PostgresNames;
  readonly #schema: { schema: string; table: string };
  readonly #timeoutMs: number;
  readonly #sweepBatch: number;
  readonly #scanPage: number;
  #migrated: Promise<void> | undefined;

  /** @throws SessionConfigError for a missing pool/connection string or an invalid name or number. */
  constructor(options: PostgresStoreOptions) {
    const {
      pool,
      connectionString,
      schema = 'public',
      table = 'tsession',
      statementTimeoutSeconds = 2,
      connectTimeoutSeconds = 2,
      maxConnections = 10,
      autoMigrate = false,
      sweepBatchSize = 1000,
      scanPageSize = 500,
    } = options ?? {};
    if ((pool === undefined) === (connectionString === undefined)) {
      throw new SessionConfigError(
        `${OWNER}: pass exactly one of \`pool\` (a pg.Pool the app has) or \`connectionString\` (e.g. 'postgres://user@host:5432/db')`,
      );
    }
    if (connectionString !== undefined) checkConnectionString(OWNER, connectionString);
    this.#names = resolveNames(OWNER, { schema, table });
    this.#schema = { schema, table };
    this.#timeoutMs = Math.ceil(positive(OWNER, 'statementTimeoutSeconds', statementTimeoutSeconds) * 1000);
    positive(OWNER, 'connectTimeoutSeconds', connectTimeoutSeconds);
    this.#sweepBatch = positive(OWNER, 'sweepBatchSize', sweepBatchSize, true);
    this.#scanPage = positive(OWNER, 'scanPageSize', scanPageSize, true);
    this.#ownsPool = pool === undefined;
    this.pool =
      pool ??
      new (pgModule().Pool)({
        connectionString,
        max: positive(OWNER, 'maxConnections', maxConnections, true),
        connectionTimeoutMillis: Math.ceil(connectTimeoutSeconds * 1000),
        statement_timeout: this.#timeoutMs,
        application_name: 'tsession',
      });
    // An idle connection dropped by a restarting server is an 'error' event on the pool; the
    // pool replaces it by itself, so the store's own pool must not crash the process over it.
    if (this.#ownsPool) this.pool.on('error', () => {});
    // Without autoMigrate a missing schema surfaces as a SessionStateError saying to migrate.
    this.#migrated = autoMigrate ? undefined : Promise.resolve();
  }

  /** Creates or updates the schema; idempotent. See {@link migrate}. */
  async migrate(): Promise<void> {
    try {
      await migrate(this.pool, this.#schema);
    } catch (error) {
      throw mapPostgresError(error, 'the schema');
    }
  }

  /** One statement: the session row joined to its entries, expiry checked against `now`. */
  async load(key: string, now: number): Promise<StoredSession | undefined> {
    const { rows } = await this.#query<SessionRow & Partial<EntryRow>>(
      'load',
      `SELECT s.created_at, s.last_access, s.expires_at, e.pkg, e.name, e.value, e.version
         FROM ${this.#names.sessions} s LEFT JOIN ${this.#names.entries} e ON e.key = s.key
        WHERE s.key = $1 AND (s.expires_at IS NULL OR s.expires_at >= $2)`,
      [key, now],
    );
    return sessionFromRows(rows);
  }

  /**
   * One statement, `SELECT <table>_commit(...)`: the server-side function locks the row,
   * checks the delta and applies it in the statement's transaction. Throws
   * `ConflictError` (every conflicting key at once) or `SessionLimitError`, having
   * written nothing. A creation under a `limit` counts live records up to a little past
   * the limit (cost: min(live, max) index entries), and such creations take turns.
   */
  async commit(key: string, delta: SessionDelta, now: number): Promise<CommitResult> {
    if (delta.create && delta.touch === undefined) {
      throw new SessionStateError('PostgresStore: a commit that creates a record needs a `touch`');
    }
    const { rows } = await this.#query<{ evicted: string[] }>(
      'commit',
      `SELECT ${this.#names.commit}($1, $2::jsonb, $3, $4) AS evicted`,
      [key, encodeDelta(delta), now, `${this.#timeoutMs}ms`],
    );
    return { evicted: rows[0]?.evicted ?? [] };
  }

  /** One `DELETE`; the entries go with it (cascade). A slower commit of this key then fails with `ConflictError('gone')`. */
  async destroy(key: string): Promise<boolean> {
    const { rowCount } = await this.#query('destroy', `DELETE FROM ${this.#names.sessions} WHERE key = $1`, [key]);
    return (rowCount ?? 0) > 0;
  }

  /** Deletes expired records `sweepBatchSize` at a time, by the expiry index, skipping rows a commit holds. */
  async sweep(now: number, options: SweepOptions = {}): Promise<number> {
    const n = this.#names;
    let removed = 0;
    for (;;) {
      // Short statements on a few rows each, skipping rows a commit holds: never a long table lock.
      const { rows } = await this.#query<{ key: string }>(
        'sweep',
        `DELETE FROM ${n.sessions} WHERE key IN (
           SELECT key FROM ${n.sessions} WHERE expires_at < $1
           ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED) RETURNING key`,
        [now, this.#sweepBatch],
      );
      removed += rows.length;
      if (rows.length > 0) options.onRemoved?.(rows.map((r) => r.key));
      if (rows.length < this.#sweepBatch) return removed;
    }
  }

  /**
   * The bulk path of an import: a batch of records in one transaction of three statements
   * (see `import-batch.ts`), instead of one commit function call per record.
   */
  async importBatch(records: readonly ImportedRecord[], now: number, options: ImportBatchOptions): Promise<boolean[]> {
    await this.#ready();
    try {
      return await importRecords(this.pool, this.#names, records, now, { ...options, lockTimeoutMs: this.#timeoutMs });
    } catch (error) {
      throw mapPostgresError(error, `the table ${this.#names.sessions}`);
    }
  }

  /** Live records with their entries, in key order, one statement per `scanPageSize` records. */
  async *scan(now: number): AsyncIterable<ScannedSession> {
    const n = this.#names;
    let after: string | undefined;
    for (;;) {
      // Keyset pagination on the primary key: each page is an index range scan, whatever the page number.
      const { rows }: { rows: (SessionRow & { key: string; entries: StoredEntry[] })[] } = await this.#query(
        after === undefined ? 'scan_first' : 'scan_next',
        `SELECT s.key, s.created_at, s.last_access, s.expires_at,
                coalesce((SELECT json_agg(json_build_object('pkg', e.pkg, 'key', e.name, 'value', e.value, 'version', e.version))
                            FROM ${n.entries} e WHERE e.key = s.key), '[]') AS entries
           FROM ${n.sessions} s
          WHERE (s.expires_at IS NULL OR s.expires_at >= $1) ${after === undefined ? '' : 'AND s.key > $3'}
          ORDER BY s.key LIMIT $2`,
        after === undefined ? [now, this.#scanPage] : [now, this.#scanPage, after],
      );
      for (const row of rows) {
        yield {
          key: row.key,
          createdAt: row.created_at,
          lastAccess: row.last_access,
          expiresAt: row.expires_at,
          entries: row.entries,
        };
      }
      const last = rows[rows.length - 1];
      if (last === undefined || rows.length < this.#scanPage) return;
      after = last.key;
    }
  }

  /** The principal's live records with their entries: one statement, through the partial index of principal entries. */
  async findByPrincipal(encoded: string, now: number): Promise<ScannedSession[]> {
    const n = this.#names;
    const { rows } = await this.#query<SessionRow & { key: string; entries: StoredEntry[] }>(
      'by_principal',
      `SELECT s.key, s.created_at, s.last_access, s.expires_at,
              coalesce((SELECT json_agg(json_build_object('pkg', e.pkg, 'key', e.name, 'value', e.value, 'version', e.version))
                          FROM ${n.entries} e WHERE e.key = s.key), '[]') AS entries
         FROM ${n.entries} p JOIN ${n.sessions} s ON s.key = p.key
        WHERE p.pkg = '${INTERNAL_PACKAGE}' AND p.name = '${PRINCIPAL_KEY}' AND p.value = $1
          AND (s.expires_at IS NULL OR s.expires_at >= $2)`,
      [encoded, now],
    );
    return rows.map((row) => ({
      key: row.key,
      createdAt: row.created_at,
      lastAccess: row.last_access,
      expiresAt: row.expires_at,
      entries: row.entries,
    }));
  }

  /** Live records; costs a scan of them. */
  async count(now: number): Promise<number> {
    const { rows } = await this.#query<{ count: string }>(
      'count',
      `SELECT count(*) FROM ${this.#names.sessions} WHERE expires_at IS NULL OR expires_at >= $1`,
      [now],
    );
    return Number(rows[0]?.count ?? 0);
  }

  /** Ends the pool the store created; a pool the app passed in stays open. */
  async close(): Promise<void> {
    if (this.#ownsPool && !this.pool.ended) await this.pool.end();
  }

  /** Resolves once the schema is there (migrating first under `autoMigrate`). */
  #ready(): Promise<void> {
    this.#migrated ??= this.migrate().catch((error: unknown) => {
      this.#migrated = undefined;
      throw error;
    });
    return this.#migrated;
  }

  async #query<R extends QueryResultRow>(name: string, text: string, values: unknown[]) {
    await this.#ready();
    // A named statement is parsed once per connection; the tag keeps stores on other tables apart.
    const config: QueryConfig & { query_timeout: number } = {
      name: `tsession_${name}_${this.#names.tag}`,
      text,
      values,
      query_timeout: this.#timeoutMs + 1000,
    };
    try {
      return await this.pool.query<R>(config);
    } catch (error) {
      throw mapPostgresError(error, `the table ${this.#names.sessions} or function ${this.#names.commit}`);
    }
  }
}
