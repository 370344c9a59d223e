import { existsSync } from 'node:fs';
import { SessionConfigError, SessionStateError } from '../errors.js';
import type { SessionStore } from '../stores/types.js';
import { CliError, EXIT } from './command.js';

/** What `migrate` found: a schema it created, one that was there, or a store without one. */
export type SchemaOutcome = 'created' | 'found' | 'none';

/** A store opened from a URL, with what the CLI may do beyond the interface. */
export interface OpenedStore {
  readonly store: SessionStore;
  /** Creates the schema when the store has one, and says whether it was already there. */
  readonly migrate: () => Promise<SchemaOutcome>;
}

/** The store URLs the CLI understands, for `--help` and error messages. */
export const STORE_URL_HELP = [
  'sqlite:./data/sessions.db           a SQLite file (sqlite:///abs/path too); ?table=NAME sets the table prefix',
  'redis://host:6379/0, rediss://...   Redis; ?prefix=NAME sets the key prefix',
  'redis+cluster://host:7000,host:7001 Redis Cluster; ?prefix= as above',
  'postgres://user@host/db             PostgreSQL; ?schema=NAME&table=NAME select the tables',
];

/** Options of {@link openStore}. */
export interface OpenStoreOptions {
  /** The command only reads: a SQLite file that does not exist is an error rather than created. */
  readonly readOnly?: boolean;
}

/**
 * Opens the store a URL names (see {@link STORE_URL_HELP}). Each store's module is loaded
 * only when named, so its client library stays optional.
 * @throws SessionConfigError for a URL it does not understand; CliError for a read-only
 *   command on a SQLite file that does not exist.
 */
export async function openStore(url: string, options: OpenStoreOptions = {}): Promise<OpenedStore> {
  const scheme = url.slice(0, url.indexOf(':') + 1).toLowerCase();
  switch (scheme) {
    case 'sqlite:':
      return openSqlite(url, options.readOnly ?? false);
    case 'redis:':
    case 'rediss:':
    case 'redis+cluster:':
      return openRedis(url);
    case 'postgres:':
    case 'postgresql:':
      return openPostgres(url);
    default:
      throw new SessionConfigError(
        `unknown store URL ${JSON.stringify(url)}; use sqlite:./data/sessions.db, redis://host:6379, redis+cluster://host:port,host:port or postgres://user@host/db`,
      );
  }
}

async function openSqlite(url: string, readOnly: boolean): Promise<OpenedStore> {
  const { path, params } = sqliteLocation(url);
  const existed = path === ':memory:' || existsSync(path);
  if (readOnly && !existed) {
    throw new CliError(
      `no SQLite database at ${path}: check --store (this command only reads, so it creates nothing)`,
      EXIT.notFound,
    );
  }
  const { SqliteStore } = await withDriver('better-sqlite3', () => import('../stores/sqlite/index.js'));
  const table = params.get('table') ?? undefined;
  // The store creates its tables when it opens, so `migrate` only reports what it found.
  const store = new SqliteStore({ path, ...(table !== undefined && { table }) });
  return { store, migrate: async () => (existed ? 'found' : 'created') };
}

async function openRedis(url: string): Promise<OpenedStore> {
  const { RedisStore } = await withDriver('ioredis', () => import('../stores/redis/index.js'));
  const parsed = new URL(url);
  const prefix = takeParam(parsed, 'prefix');
  const store = new RedisStore({ url: parsed.toString(), ...(prefix !== undefined && { prefix }) });
  return { store, migrate: async () => 'none' };
}

async function openPostgres(url: string): Promise<OpenedStore> {
  const { PostgresStore } = await withDriver('pg', () => import('../stores/postgres/index.js'));
  const parsed = new URL(url);
  const schema = takeParam(parsed, 'schema');
  const table = takeParam(parsed, 'table');
  const store = new PostgresStore({
    connectionString: parsed.toString(),
    ...(schema !== undefined && { schema }),
    ...(table !== undefined && { table }),
  });
  return {
    store,
    async migrate() {
      const existed = await hasSchema(store);
      await store.migrate();
      return existed ? 'found' : 'created';
    },
  };
}

/** Whether the store's tables are there: without them a read fails with SessionStateError ("run migrate"). */
async function hasSchema(store: SessionStore): Promise<boolean> {
  try {
    await store.count?.(0);
    return true;
  } catch (error) {
    if (error instanceof SessionStateError) return false;
    throw error;
  }
}

/**
 * Loads a store's module; when its driver (an optional peer of tsession) is not installed,
 * says which package to install instead of Node's "cannot find package ... imported from ...".
 */
async function withDriver<M>(driver: string, load: () => Promise<M>): Promise<M> {
  try {
    return await load();
  } catch (error) {
    const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
    if (code === 'ERR_MODULE_NOT_FOUND' && String(message).includes(`'${driver}'`)) {
      throw new SessionConfigError(`this store needs the ${driver} package: npm install ${driver}`);
    }
    throw error;
  }
}

function takeParam(url: URL, name: string): string | undefined {
  const value = url.searchParams.get(name) ?? undefined;
  url.searchParams.delete(name);
  return value;
}

function sqliteLocation(url: string): { path: string; params: URLSearchParams } {
  const rest = url.slice('sqlite:'.length);
  const query = rest.indexOf('?');
  const location = query === -1 ? rest : rest.slice(0, query);
  const params = new URLSearchParams(query === -1 ? '' : rest.slice(query + 1));
  return { path: location.startsWith('//') ? location.slice(2) : location, params };
}
