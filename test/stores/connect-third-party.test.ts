/**
 * tsession's store contract over ConnectStore wrapping third-party express-session
 * stores (connect-redis 9 runs in connect-contract.test.ts): memorystore (lists with
 * `all()`), and three that cannot list, so they declare `listing: false` and the suite
 * checks that sweep/scan/count refuse with StoreUnsupportedError instead of running the
 * listing cases: connect-pg-simple and session-file-store (no `all()`) and connect-sqlite3
 * (`all()` without ids). session-file-store also reports a missing session as ENOENT.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import session from 'express-session';
import pg from 'pg';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { describeStoreContract } from '../../src/conformance/index.js';
import { SessionConfigError, StoreUnsupportedError } from '../../src/errors.js';
import { SessionDataContainer } from '../../src/index.js';
import { type ConnectCompatibleStore, ConnectStore } from '../../src/stores/connect/index.js';
import { POSTGRES_URL, serviceAvailable, uniquePrefix } from '../support/services.js';

const t = { describe, it, beforeEach, afterEach };
const require = createRequire(import.meta.url);
/** Each package exports a function of express-session that returns its Store class. */
type StoreClassOf = (s: typeof session) => new (options: Record<string, unknown>) => ConnectCompatibleStore;
const MemoryStoreOf = require('memorystore') as StoreClassOf;
const PgStoreOf = require('connect-pg-simple') as StoreClassOf;
const SqliteStoreOf = require('connect-sqlite3') as StoreClassOf;
const FileStoreOf = require('session-file-store') as StoreClassOf;

const whole = { limit: false, atomicRegenerate: false, perKeyVersions: false, principals: false };
const dir = await mkdtemp(join(tmpdir(), 'tsession-connect-third-party-'));
let fixtures = 0;
afterAll(() => rm(dir, { recursive: true, force: true }));

describeStoreContract(
  'ConnectStore over memorystore',
  async () => ({ store: new ConnectStore({ store: new (MemoryStoreOf(session))({}) }) }),
  t,
  { capabilities: whole },
);

describeStoreContract(
  'ConnectStore over session-file-store',
  async () => {
    const path = join(dir, `files${++fixtures}`);
    // No retries of a missing file (its default retries a read 5 times), no reaper process.
    const files = new (FileStoreOf(session))({ path, retries: 0, reapInterval: -1, logFn: () => {} });
    return { store: new ConnectStore({ store: files }), cleanup: () => rm(path, { recursive: true, force: true }) };
  },
  t,
  { capabilities: { ...whole, listing: false } },
);

describeStoreContract(
  'ConnectStore over connect-sqlite3',
  async () => {
    const sqlite = new (SqliteStoreOf(session))({ db: `s${++fixtures}.db`, dir }) as ConnectCompatibleStore & {
      db: { close(cb: () => void): void };
    };
    return {
      store: new ConnectStore({ store: sqlite, listing: false }),
      cleanup: () => new Promise<void>((resolve) => sqlite.db.close(() => resolve())),
    };
  },
  t,
  { capabilities: { ...whole, listing: false } },
);

const pgAvailable = await serviceAvailable('postgres');

describe.skipIf(!pgAvailable)('over connect-pg-simple', () => {
  const run = uniquePrefix('connect_pg_simple');
  const pool = new pg.Pool({ connectionString: POSTGRES_URL });
  afterAll(() => pool.end());

  describeStoreContract(
    'ConnectStore over connect-pg-simple',
    async () => {
      // A schema per case: its table's primary key index is named "session_pkey" whatever the table's name.
      const schemaName = `${run}_${++fixtures}`;
      await pool.query(`CREATE SCHEMA "${schemaName}"`);
      const options = { pool, schemaName, createTableIfMissing: true, pruneSessionInterval: false };
      return {
        store: new ConnectStore({ store: new (PgStoreOf(session))(options) }),
        cleanup: async () => {
          await pool.query(`DROP SCHEMA "${schemaName}" CASCADE`);
        },
      };
    },
    t,
    { capabilities: { ...whole, listing: false } },
  );
});

describe('ConnectStore without listing', () => {
  const files = () => new (FileStoreOf(session))({ path: join(dir, `x${++fixtures}`), retries: 0, reapInterval: -1 });

  it('declares it, refuses listing with a typed error that says why, and a container will not sweep it', async () => {
    const store = new ConnectStore({ store: files() });
    expect(store.capabilities.listing).toBe(false);
    await expect(store.sweep(0)).rejects.toThrow(StoreUnsupportedError);
    await expect(store.sweep(0)).rejects.toThrow(/cannot list sessions/);
    expect(() => new SessionDataContainer({ store, sweepIntervalSeconds: 60 })).toThrow(SessionConfigError);
    expect(() => new SessionDataContainer({ store })).not.toThrow();
  });

  it('an all() without ids is refused the same way, and listing: true without all() is a config error', async () => {
    const noIds: ConnectCompatibleStore = {
      get: (_sid, cb) => cb(null, null),
      set: (_sid, _s, cb) => cb?.(),
      destroy: (_sid, cb) => cb?.(),
      all: (cb) => cb(null, [{ cookie: {} }]),
    };
    const store = new ConnectStore({ store: noIds });
    expect(store.capabilities.listing).toBe(true);
    await expect(store.count(0)).rejects.toThrow(StoreUnsupportedError);
    expect(() => new ConnectStore({ store: files(), listing: true })).toThrow(SessionConfigError);
  });
});
