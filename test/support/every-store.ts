/**
 * Every store the library ships, opened fresh for one test file: memory, SQLite (a
 * temporary file), Redis and PostgreSQL (each under a prefix or schema of its own,
 * removed by `cleanup`). A service that does not answer is marked unavailable, so the
 * caller can `it.skipIf` (CI fails instead, see services.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { Pool } from 'pg';
import type { SessionStore } from '../../src/index.js';
import { MemoryStore } from '../../src/stores/memory/index.js';
import { PostgresStore } from '../../src/stores/postgres/index.js';
import { RedisStore } from '../../src/stores/redis/index.js';
import { SqliteStore } from '../../src/stores/sqlite/index.js';
import { POSTGRES_URL, REDIS_URL, serviceAvailable, uniquePrefix } from './services.js';

export interface StoreKind {
  readonly name: 'MemoryStore' | 'SqliteStore' | 'RedisStore' | 'PostgresStore';
  readonly available: boolean;
  /**
   * A store of this kind; close it when done. Without `shared`, a new, empty one. With it,
   * every store opened under the same name works over the same data, as two app processes
   * over one backend do (MemoryStore, which lives in its process, gives the same instance).
   */
  open(shared?: string): Promise<SessionStore>;
}

/** The four stores for a test file labelled `label`, and the cleanup to run in `afterAll`. */
export async function everyStore(label: string): Promise<{ kinds: StoreKind[]; cleanup: () => Promise<void> }> {
  const redis = await serviceAvailable('redis');
  const postgres = await serviceAvailable('postgres');
  const dir = mkdtempSync(join(tmpdir(), `tsession-${label}-`));
  const schema = uniquePrefix(label);
  let opened = 0;
  /** The name a store's data lives under: its own, or the one it shares. */
  const dataName = (shared: string | undefined) => (shared === undefined ? `s${opened++}` : `shared_${shared}`);
  const memories = new Map<string, MemoryStore>();
  const kinds: StoreKind[] = [
    {
      name: 'MemoryStore',
      available: true,
      open: async (shared) => {
        if (shared === undefined) return new MemoryStore({ sweepIntervalSeconds: 0 });
        const memory = memories.get(shared) ?? new MemoryStore({ sweepIntervalSeconds: 0 });
        memories.set(shared, memory);
        return memory;
      },
    },
    {
      name: 'SqliteStore',
      available: true,
      open: async (shared) => new SqliteStore({ path: join(dir, `${dataName(shared)}.db`) }),
    },
    {
      name: 'RedisStore',
      available: redis,
      open: async (shared) => new RedisStore({ url: REDIS_URL, prefix: `${schema}_${dataName(shared)}:` }),
    },
    {
      name: 'PostgresStore',
      available: postgres,
      open: async (shared) => {
        const store = new PostgresStore({ connectionString: POSTGRES_URL, schema, table: dataName(shared) });
        await store.migrate();
        return store;
      },
    },
  ];
  const cleanup = async () => {
    rmSync(dir, { recursive: true, force: true });
    if (redis) {
      const client = new Redis(REDIS_URL);
      let cursor = '0';
      do {
        const [next, keys] = await client.scan(cursor, 'MATCH', `${schema}_*`, 'COUNT', 1000);
        if (keys.length > 0) await client.del(...keys);
        cursor = next;
      } while (cursor !== '0');
      client.disconnect();
    }
    if (postgres) {
      const admin = new Pool({ connectionString: POSTGRES_URL, max: 1 });
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await admin.end();
    }
  };
  return { kinds, cleanup };
}
