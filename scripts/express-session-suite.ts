/**
 * A mocha `--require` module that runs express-session's own test suite with its
 * `MemoryStore` replaced by `toExpressSessionStore(<a tsession store>)`: both the class
 * the tests construct (`new session.MemoryStore()`) and the default store of `session()`
 * come from `session/memory.js`, so that module is swapped in `require.cache` before the
 * tests load express-session. Every construction gets a fresh, empty tsession store.
 *
 * Environment: `EXPRESS_SESSION_CHECKOUT` (the checkout's path) and `TSESSION_SUITE_STORE`
 * (`memory`, `sqlite`, `redis` or `postgres`; the services of `test/support/services.ts`).
 * Run it with `scripts/express-session-suite.sh`, which fetches nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire, Module } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import pg from 'pg';
import { toExpressSessionStore } from '../src/stores/connect/index.js';
import { MemoryStore } from '../src/stores/memory/index.js';
import { PostgresStore } from '../src/stores/postgres/index.js';
import { RedisStore } from '../src/stores/redis/index.js';
import { SqliteStore } from '../src/stores/sqlite/index.js';
import type { SessionStore } from '../src/stores/types.js';

const checkout = process.env.EXPRESS_SESSION_CHECKOUT;
const kind = process.env.TSESSION_SUITE_STORE ?? 'memory';
if (!checkout) throw new Error('set EXPRESS_SESSION_CHECKOUT to an expressjs/session checkout');
const run = `tsession_es_${process.pid}_${Date.now().toString(36)}`;
const REDIS_URL = process.env.TSESSION_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const POSTGRES_URL = process.env.TSESSION_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** One shared connection per service; each store gets its own table or key prefix on it. */
function storeFactory(): { make: (n: number) => SessionStore; cleanup: () => Promise<void> } {
  switch (kind) {
    case 'memory':
      return { make: () => new MemoryStore({ sweepIntervalSeconds: 0 }), cleanup: async () => {} };
    case 'sqlite': {
      const dir = mkdtempSync(join(tmpdir(), 'tsession-es-'));
      const database = new Database(join(dir, 'sessions.db'));
      database.pragma('journal_mode = WAL');
      return {
        make: (n) => new SqliteStore({ database, table: `t${n}` }),
        cleanup: async () => {
          database.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    }
    case 'redis': {
      const client = new Redis(REDIS_URL);
      return {
        make: (n) => new RedisStore({ client, prefix: `${run}:${n}:` }),
        cleanup: async () => {
          const keys: string[] = [];
          for await (const batch of client.scanStream({ match: `${run}:*` })) keys.push(...batch);
          if (keys.length > 0) await client.del(...keys);
          await client.quit();
        },
      };
    }
    case 'postgres': {
      const pool = new pg.Pool({ connectionString: POSTGRES_URL });
      return {
        make: (n) => new PostgresStore({ pool, schema: run, table: `t${n}`, autoMigrate: true }),
        cleanup: async () => {
          await pool.query(`DROP SCHEMA IF EXISTS "${run}" CASCADE`);
          await pool.end();
        },
      };
    }
    default:
      throw new Error(`TSESSION_SUITE_STORE must be memory, sqlite, redis or postgres, not ${kind}`);
  }
}

const factory = storeFactory();
const requireFromCheckout = createRequire(join(checkout, 'index.js'));
/** The checkout's own `Store` class, so the adapted stores are instances of the Store its tests know. */
const Store = requireFromCheckout('./session/store.js') as abstract new () => object;
let made = 0;

/** Stands in for express-session's MemoryStore: `new` gives an adapted, empty tsession store. */
function TsessionMemoryStore(): object {
  return toExpressSessionStore(factory.make(++made), { Store });
}

const memoryPath = requireFromCheckout.resolve('./session/memory.js');
const replacement = new Module(memoryPath);
replacement.filename = memoryPath;
replacement.exports = TsessionMemoryStore;
replacement.loaded = true;
createRequire(import.meta.url).cache[memoryPath] = replacement;

/** Mocha root hooks: drop what the stores left behind once the suite is done. */
export const mochaHooks = {
  async afterAll(this: { timeout(ms: number): void }): Promise<void> {
    this.timeout(120_000); // dropping a schema of a hundred tables takes longer than mocha's 2 s
    await factory.cleanup();
  },
};
