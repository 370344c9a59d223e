import { SessionConfigError } from '../errors.js';
import type { SessionStore } from '../stores/types.js';

/** A store opened from a URL, with what the CLI may do beyond the interface. */
export interface OpenedStore {
  readonly store: SessionStore;
  /** Creates the schema, for stores that have one (PostgreSQL); SQLite and Redis need none. */
  readonly migrate?: () => Promise<void>;
}

/**
 * Opens the store a URL names: `sqlite:./data/sessions.db` (or `sqlite:///abs/path`),
 * `redis://host:6379/0`, `rediss://...`, `redis+cluster://host:7000,host:7001` (`?prefix=...` sets the key prefix),
 * `postgres://user@host/db` (`?schema=...&table=...` select the tables). Each store's
 * module is loaded only when named, so its client library stays optional.
 */
export async function openStore(url: string): Promise<OpenedStore> {
  const scheme = url.slice(0, url.indexOf(':') + 1).toLowerCase();
  switch (scheme) {
    case 'sqlite:': {
      const { SqliteStore } = await import('../stores/sqlite/index.js');
      return { store: new SqliteStore({ path: sqlitePath(url) }) };
    }
    case 'redis:':
    case 'rediss:':
    case 'redis+cluster:': {
      const { RedisStore } = await import('../stores/redis/index.js');
      const parsed = new URL(url);
      const prefix = parsed.searchParams.get('prefix') ?? undefined;
      parsed.searchParams.delete('prefix');
      return { store: new RedisStore({ url: parsed.toString(), ...(prefix !== undefined && { prefix }) }) };
    }
    case 'postgres:':
    case 'postgresql:': {
      const { PostgresStore } = await import('../stores/postgres/index.js');
      const parsed = new URL(url);
      const schema = parsed.searchParams.get('schema') ?? undefined;
      const table = parsed.searchParams.get('table') ?? undefined;
      parsed.searchParams.delete('schema');
      parsed.searchParams.delete('table');
      const store = new PostgresStore({
        connectionString: parsed.toString(),
        ...(schema !== undefined && { schema }),
        ...(table !== undefined && { table }),
      });
      return { store, migrate: () => store.migrate() };
    }
    default:
      throw new SessionConfigError(
        `unknown store URL ${JSON.stringify(url)}; use sqlite:./data/sessions.db, redis://host:6379, redis+cluster://host:port,host:port or postgres://user@host/db`,
      );
  }
}

function sqlitePath(url: string): string {
  const rest = url.slice('sqlite:'.length);
  return rest.startsWith('//') ? rest.slice(2) : rest;
}
