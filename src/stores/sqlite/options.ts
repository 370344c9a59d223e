import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type Database from 'better-sqlite3';
import { SessionConfigError } from '../../errors.js';
import { optionalPeer } from '../../optional-peer.js';
import { unavailable } from './errors.js';

/** Options of {@link SqliteStore}. Give exactly one of `path` and `database`. Times are in seconds. */
export interface SqliteStoreOptions {
  /**
   * The database file; its directory is created if missing. The store owns the
   * connection it opens (WAL, `synchronous=NORMAL`, `busyTimeout`) and closes it in `close()`.
   * `':memory:'` keeps everything in this process.
   */
  path?: string;
  /**
   * A better-sqlite3 `Database` the app already has. The store never closes it and
   * leaves its pragmas alone (WAL is recommended).
   */
  database?: Database.Database;
  /**
   * Prefix of the store's tables (`<table>_sessions`, `<table>_entries`, `<table>_meta`), so
   * several containers can share one file: letters, digits and `_`, starting with a letter or `_`.
   * @default 'tsession'
   */
  table?: string;
  /** Seconds to wait for another connection's write lock before failing with `StoreUnavailableError`. @default 5 */
  busyTimeout?: number;
  /** Records deleted per `sweep` transaction; the event loop runs between batches. @default 1000 */
  sweepBatchSize?: number;
  /** Records read per `scan` page. @default 500 */
  scanBatchSize?: number;
}

/** The options after defaults and checks, with the connection to use. */
export interface ResolvedSqliteOptions {
  readonly db: Database.Database;
  /** True when the store opened the connection, and so closes it. */
  readonly owned: boolean;
  readonly table: string;
  readonly sweepBatchSize: number;
  readonly scanBatchSize: number;
}

const TABLE = /^[A-Za-z_][A-Za-z0-9_]{0,47}$/;

/** Checks the options and opens (or adopts) the connection. @throws SessionConfigError, StoreUnavailableError */
export function resolveSqliteOptions(options: SqliteStoreOptions): ResolvedSqliteOptions {
  const fail = (message: string): never => {
    throw new SessionConfigError(`SqliteStore: ${message}`);
  };
  if (typeof options !== 'object' || options === null) fail('pass `{ path }` or `{ database }`');
  const { path, database, table = 'tsession', busyTimeout = 5, sweepBatchSize = 1000, scanBatchSize = 500 } = options;
  if ((path === undefined) === (database === undefined)) {
    fail(
      'give exactly one of `path` (a file to open, e.g. "./data/sessions.db") and `database` (a better-sqlite3 Database)',
    );
  }
  if (path !== undefined && (typeof path !== 'string' || path === '')) fail('`path` must be a non-empty file path');
  if (database !== undefined && !isDatabase(database)) {
    fail('`database` must be a better-sqlite3 Database, e.g. `new Database("sessions.db")`');
  }
  if (database?.open === false) fail('`database` is closed; pass an open connection');
  if (database?.readonly) fail('`database` is read-only; sessions need a writable connection');
  if (typeof table !== 'string' || !TABLE.test(table)) {
    fail(`\`table\` must match ${TABLE} (letters, digits, _), got ${JSON.stringify(table)}`);
  }
  if (!(Number.isFinite(busyTimeout) && busyTimeout >= 0)) fail('`busyTimeout` must be a number of seconds ≥ 0');
  for (const [name, value] of [
    ['sweepBatchSize', sweepBatchSize],
    ['scanBatchSize', scanBatchSize],
  ] as const) {
    if (!(Number.isInteger(value) && value > 0)) fail(`\`${name}\` must be a positive integer`);
  }
  const db = database ?? open(path as string, busyTimeout);
  return { db, owned: database === undefined, table, sweepBatchSize, scanBatchSize };
}

function open(path: string, busyTimeout: number): Database.Database {
  const Database = optionalPeer<typeof import('better-sqlite3')>('better-sqlite3', 'SqliteStore');
  try {
    if (path !== ':memory:' && !path.startsWith('file:')) mkdirSync(dirname(path), { recursive: true });
    const db = new Database(path, { timeout: Math.round(busyTimeout * 1000) });
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    return db;
  } catch (error) {
    throw unavailable(error, `SqliteStore cannot open ${JSON.stringify(path)}`);
  }
}

/** Duck-typed, so a Database from another copy of better-sqlite3 in node_modules is accepted too. */
function isDatabase(value: unknown): value is Database.Database {
  const db = value as Partial<Database.Database> | null;
  return typeof db?.prepare === 'function' && typeof db.transaction === 'function' && typeof db.pragma === 'function';
}
