import type { Pool } from 'pg';
import { SessionConfigError } from '../../errors.js';
import { optionalPeer } from '../../optional-peer.js';

/** The pg package, loaded when a PostgresStore first makes a pool. @throws SessionConfigError when it is not installed */
export function pgModule(): typeof import('pg') {
  return optionalPeer<typeof import('pg')>('pg', 'PostgresStore');
}

/**
 * Refuses a connection string that names another database system (`mysql://`,
 * `redis://`, ...), which pg would otherwise try as PostgreSQL. Accepted: `postgres://`,
 * `postgresql://`, `socket:` and a socket directory path, the forms pg reads.
 * @throws SessionConfigError
 */
export function checkConnectionString(owner: string, value: unknown): void {
  const scheme = typeof value === 'string' ? /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(value)?.[1]?.toLowerCase() : '';
  const ok = typeof value === 'string' && (scheme === undefined ? value.startsWith('/') : POSTGRES_SCHEMES.has(scheme));
  if (!ok) {
    const got = typeof value === 'string' ? (scheme ? `a ${scheme}: URL` : 'no URL') : `a ${typeof value}`;
    throw new SessionConfigError(
      `${owner}: \`connectionString\` must be a PostgreSQL URL such as 'postgres://user@host:5432/db' (got ${got})`,
    );
  }
}

const POSTGRES_SCHEMES = new Set(['postgres', 'postgresql', 'socket']);

/** Options of {@link PostgresStore}. Times are in seconds. */
export interface PostgresStoreOptions {
  /**
   * A pool the app already has. The store never ends it; `close()` leaves it open. Give
   * this or `connectionString`. The app should listen to the pool's `'error'` event (idle
   * connections dropped by a restarting server raise it) and may set its
   * `connectionTimeoutMillis` and `statement_timeout`; the store bounds each call with
   * `query_timeout` and its commits' lock waits with `lock_timeout` either way.
   */
  pool?: Pool;
  /** A connection string, e.g. `postgres://app@db:5432/app`; the store creates a pool of its own and ends it in `close()`. */
  connectionString?: string;
  /** The schema that holds the tables; `migrate()` creates it. @default 'public' */
  schema?: string;
  /** Prefix of the store's table and function names (`<table>_sessions`, `<table>_entries`, `<table>_meta`, `<table>_commit`). @default 'tsession' */
  table?: string;
  /**
   * The longest a statement may run, lock waits included, before the call fails with
   * `StoreUnavailableError`. Enforced by the server on a pool the store owns
   * (`statement_timeout`), and for every store by the client (`query_timeout`, one
   * second later) and by the commit function (`lock_timeout`).
   * @default 2
   */
  statementTimeoutSeconds?: number;
  /** The longest to wait for a connection from a pool the store owns (a down server fails this fast). @default 2 */
  connectTimeoutSeconds?: number;
  /** Most connections of a pool the store owns. @default 10 */
  maxConnections?: number;
  /**
   * Run {@link migrate} once, lazily, before the first call. Off by default: schema
   * changes belong in a deploy step (`await store.migrate()` or the CLI), not in a request.
   * @default false
   */
  autoMigrate?: boolean;
  /** Records deleted per statement by `sweep`. @default 1000 */
  sweepBatchSize?: number;
  /** Records fetched per statement by `scan`. @default 500 */
  scanPageSize?: number;
}

/** Where a store's objects live, already quoted for SQL. */
export interface PostgresNames {
  readonly schema: string;
  readonly sessions: string;
  readonly entries: string;
  readonly meta: string;
  readonly commit: string;
  readonly expiresIndex: string;
  /** The partial index of the principal entries (sessions by user). */
  readonly principalIndex: string;
  /** A short tag unique to (schema, table), for prepared statement names and the advisory lock. */
  readonly tag: string;
  /** A 32-bit number unique-ish to (schema, table), the key of the advisory lock creations under a limit take. */
  readonly lockId: number;
  /** A 32-bit number unique-ish to the schema, the key of the advisory lock `migrate` takes. */
  readonly migrateLockId: number;
}

/** Options of {@link migrate}: where the objects live. */
export interface PostgresSchemaOptions {
  /** @default 'public' */
  schema?: string;
  /** @default 'tsession' */
  table?: string;
}

/** Plain identifiers only; `table` is shorter, as suffixes such as `_sessions_expires_at` must fit in 63 bytes. */
const IDENTIFIER = { schema: /^[A-Za-z_][A-Za-z0-9_]{0,62}$/, table: /^[A-Za-z_][A-Za-z0-9_]{0,39}$/ };
const MAX_LENGTH = { schema: 63, table: 40 };

/** Validates `schema` and `table` and derives every object name from them. */
export function resolveNames(owner: string, options: PostgresSchemaOptions): PostgresNames {
  const { schema = 'public', table = 'tsession' } = options;
  for (const [name, value] of [
    ['schema', schema],
    ['table', table],
  ] as const) {
    if (typeof value !== 'string' || !IDENTIFIER[name].test(value)) {
      throw new SessionConfigError(
        `${owner}: \`${name}\` must be a plain SQL identifier of at most ${MAX_LENGTH[name]} letters, digits and underscores (got ${JSON.stringify(value)})`,
      );
    }
  }
  const q = (name: string) => `"${name}"`;
  const hash = fnv1a(`${schema}.${table}`);
  return {
    schema: q(schema),
    sessions: `${q(schema)}.${q(`${table}_sessions`)}`,
    entries: `${q(schema)}.${q(`${table}_entries`)}`,
    meta: `${q(schema)}.${q(`${table}_meta`)}`,
    commit: `${q(schema)}.${q(`${table}_commit`)}`,
    expiresIndex: q(`${table}_sessions_expires_at`),
    principalIndex: q(`${table}_entries_principal`),
    tag: hash.toString(36),
    lockId: hash | 0,
    migrateLockId: fnv1a(`migrate:${schema}`) | 0,
  };
}

/** Checks a positive number option, with a message naming the class and the option. */
export function positive(owner: string, name: string, value: number, integer = false): number {
  if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value) || (integer && !Number.isInteger(value))) {
    throw new SessionConfigError(
      `${owner}: \`${name}\` must be a positive ${integer ? 'integer' : 'number'} (got ${String(value)})`,
    );
  }
  return value;
}

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}
