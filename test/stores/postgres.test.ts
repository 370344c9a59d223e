import { Pool, type PoolClient } from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { describeStoreContract } from '../../src/conformance/index.js';
import {
  ConflictError,
  CookieClientIdManager,
  SessionConfigError,
  SessionDataContainer,
  type SessionDelta,
  SessionLimitError,
  SessionManager,
  SessionStateError,
} from '../../src/index.js';
import { migrate, PostgresStore, SCHEMA_VERSION } from '../../src/stores/postgres/index.js';
import { cookieFrom, manualClock, request, SECRET } from '../helpers.js';
import { POSTGRES_URL, serviceAvailable, uniquePrefix } from '../support/services.js';

const available = await serviceAvailable('postgres');
const SCHEMA = uniquePrefix('pg');
const NOW = 1_700_000_000;
const PKG = 'app.data';

/** Every statement the pool's connections are sent, in order. */
const sent: string[] = [];
let pool: Pool;
let tables = 0;
let store: PostgresStore;

function countingPool(): Pool {
  const p = new Pool({ connectionString: POSTGRES_URL, max: 8 });
  p.on('connect', (client: PoolClient) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as unknown as { query: typeof query }).query = (...args: unknown[]) => {
      const first = args[0] as string | { text: string };
      sent.push(typeof first === 'string' ? first : first.text);
      return query(...args);
    };
  });
  return p;
}

async function freshStore(options: Partial<ConstructorParameters<typeof PostgresStore>[0]> = {}) {
  const s = new PostgresStore({ pool, schema: SCHEMA, table: `t${++tables}`, ...options });
  await s.migrate();
  return s;
}

function create(key: string, writes: SessionDelta['writes'] = [], expiresAt: number | null = NOW + 3600) {
  return store.commit(key, { create: true, touch: { lastAccess: NOW, expiresAt }, writes }, NOW);
}

describe.skipIf(!available)('PostgresStore', () => {
  beforeAll(async () => {
    pool = countingPool();
  });
  afterAll(async () => {
    await pool?.query(`DROP SCHEMA IF EXISTS "${SCHEMA}" CASCADE`);
    await pool?.end();
  });

  describeStoreContract(
    'PostgresStore',
    async () => {
      const table = `c${++tables}`;
      const contractStore = new PostgresStore({ pool, schema: SCHEMA, table });
      await contractStore.migrate();
      return {
        store: contractStore,
        cleanup: async () => {
          await pool.query(
            `DROP TABLE "${SCHEMA}"."${table}_entries", "${SCHEMA}"."${table}_sessions", "${SCHEMA}"."${table}_meta";
             DROP FUNCTION "${SCHEMA}"."${table}_commit"`,
          );
        },
      };
    },
    { describe, it, beforeEach, afterEach },
  );

  describe('PostgreSQL specifics', () => {
    beforeEach(async () => {
      store = await freshStore();
      sent.length = 0;
    });
    afterEach(async () => {
      await store.close();
    });

    describe('migrate', () => {
      it('is idempotent and records the schema version', async () => {
        await store.migrate();
        await migrate(pool, { schema: SCHEMA, table: `t${tables}` });
        await create('a', [{ pkg: PKG, key: 'k', value: '1' }]);
        await store.migrate();
        expect((await store.load('a', NOW))?.entries).toEqual([{ pkg: PKG, key: 'k', value: '1', version: 1 }]);
        const { rows } = await pool.query(
          `SELECT value FROM "${SCHEMA}"."t${tables}_meta" WHERE name = 'schema_version'`,
        );
        expect(rows).toEqual([{ value: String(SCHEMA_VERSION) }]);
      });

      it('runs concurrently from several connections without error', async () => {
        const fresh = `${SCHEMA}_m`;
        try {
          const runs = ['a', 'b', 'a', 'b'].map((table) => migrate(pool, { schema: fresh, table }));
          await Promise.all(runs);
          const { rows } = await pool.query(`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = $1`, [fresh]);
          expect(rows).toEqual([{ n: 6 }]);
        } finally {
          await pool.query(`DROP SCHEMA IF EXISTS "${fresh}" CASCADE`);
        }
      });

      it('says to call migrate() when the schema is missing, and autoMigrate creates it once', async () => {
        const bare = new PostgresStore({ pool, schema: SCHEMA, table: 'never_migrated' });
        await expect(bare.load('a', NOW)).rejects.toThrow(SessionStateError);
        await expect(bare.load('a', NOW)).rejects.toThrow(/call `await store.migrate\(\)`/);
        const auto = new PostgresStore({ pool, schema: SCHEMA, table: 'auto_migrated', autoMigrate: true });
        await auto.commit('a', { create: true, touch: { lastAccess: NOW, expiresAt: null }, writes: [] }, NOW);
        sent.length = 0;
        expect(await auto.load('a', NOW)).toMatchObject({ expiresAt: null, entries: [] });
        expect(sent).toHaveLength(1);
      });

      it('rejects bad options at construction', () => {
        expect(() => new PostgresStore({} as never)).toThrow(SessionConfigError);
        expect(() => new PostgresStore({ pool, connectionString: POSTGRES_URL })).toThrow(/exactly one of/);
        expect(() => new PostgresStore({ pool, table: 'x"; DROP TABLE y' })).toThrow(/PostgresStore: `table`/);
        expect(() => new PostgresStore({ pool, statementTimeoutSeconds: 0 })).toThrow(/statementTimeoutSeconds/);
      });
    });

    describe('round trips', () => {
      it('loads in one statement and commits in one statement', async () => {
        await create('a', [{ pkg: PKG, key: 'x', value: '1' }]);
        expect(sent).toHaveLength(1);
        sent.length = 0;
        const record = await store.load('a', NOW + 1);
        expect(sent).toHaveLength(1);
        expect(record?.entries).toEqual([{ pkg: PKG, key: 'x', value: '1', version: 1 }]);
        sent.length = 0;
        await store.commit(
          'a',
          {
            create: false,
            touch: { lastAccess: NOW + 1, expiresAt: NOW + 3601 },
            writes: [
              { pkg: PKG, key: 'x', value: '2', expectVersion: 1 },
              { pkg: PKG, key: 'y', value: '3', expectVersion: 0 },
              { pkg: 'other', key: 'z', value: undefined },
            ],
          },
          NOW + 1,
        );
        expect(sent).toHaveLength(1);
      });

      it('a read-only request inside the resolution window sends no write', async () => {
        const clock = manualClock(NOW);
        const container = new SessionDataContainer({ store, clock, timeout: 3600, resolution: 600 });
        const clientIds = new CookieClientIdManager({ secret: SECRET, clock });
        const manager = new SessionManager({ clientIds, container });

        const first = manager.open(request());
        (await first.get(PKG)).set('color', 'blue');
        await first.commit();
        const cookie = cookieFrom(first.responseHeaders);
        expect(cookie).toBeDefined();

        const perRequest: string[][] = [];
        for (const advance of [10, 300, 700]) {
          clock.advance(advance);
          sent.length = 0;
          const s = manager.open(request({ cookie: cookie as string }));
          expect((await s.get(PKG)).get('color')).toBe('blue');
          await s.commit();
          perRequest.push([...sent]);
        }
        // Inside the window: the load alone. Past it (L + 600 < now): the load and one touch.
        expect(perRequest.map((r) => r.length)).toEqual([1, 1, 2]);
        for (const statement of [...(perRequest[0] ?? []), ...(perRequest[1] ?? [])]) {
          expect(statement).toMatch(/^\s*SELECT s\.created_at/);
        }
        expect(perRequest[2]?.[1]).toMatch(/_commit"\(/);
        console.log(
          `statements per read-only request: inside window ${perRequest[0]?.length}, after ${perRequest[2]?.length}`,
        );
      });
    });

    describe('commit', () => {
      it('reports every conflicting key and applies nothing', async () => {
        await create('a', [
          { pkg: PKG, key: 'x', value: '1' },
          { pkg: PKG, key: 'y', value: '1' },
        ]);
        const error = await store
          .commit(
            'a',
            {
              create: false,
              touch: { lastAccess: NOW + 5, expiresAt: NOW + 9999 },
              writes: [
                { pkg: PKG, key: 'x', value: '2', expectVersion: 2 },
                { pkg: PKG, key: 'y', value: '2', expectVersion: 1 },
                { pkg: PKG, key: 'z', value: '2', expectVersion: 1 },
                { pkg: PKG, key: 'w', value: '2' },
              ],
            },
            NOW,
          )
          .catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ConflictError);
        expect((error as ConflictError).reason).toBe('version');
        expect([...(error as ConflictError).keys].sort()).toEqual([`${PKG} › x`, `${PKG} › z`]);
        const record = await store.load('a', NOW);
        expect(record?.expiresAt).toBe(NOW + 3600);
        expect(record?.entries.map((e) => [e.key, e.value, e.version]).sort()).toEqual([
          ['x', '1', 1],
          ['y', '1', 1],
        ]);
      });

      it('keeps the later touch, and clear keeps counting versions of rewritten keys', async () => {
        await create('a', [
          { pkg: PKG, key: 'x', value: '1' },
          { pkg: PKG, key: 'y', value: '1' },
        ]);
        const touch = (t: number): SessionDelta => ({
          create: false,
          touch: { lastAccess: t, expiresAt: t + 3600 },
          writes: [],
        });
        await store.commit('a', touch(NOW + 20), NOW + 20);
        await store.commit('a', touch(NOW + 10), NOW + 20);
        await store.commit('a', { create: false, clear: true, writes: [{ pkg: PKG, key: 'x', value: '2' }] }, NOW + 20);
        expect(await store.load('a', NOW + 20)).toEqual({
          createdAt: NOW,
          lastAccess: NOW + 20,
          expiresAt: NOW + 3620,
          entries: [{ pkg: PKG, key: 'x', value: '2', version: 2 }],
        });
      });

      it('stays gone after destroy, and re-creating an expired key starts afresh', async () => {
        await create('a', [{ pkg: PKG, key: 'x', value: '1' }]);
        expect(await store.destroy('a')).toBe(true);
        expect(await store.destroy('a')).toBe(false);
        const late = store.commit('a', { create: false, writes: [{ pkg: PKG, key: 'x', value: '2' }] }, NOW);
        await expect(late).rejects.toMatchObject({ reason: 'gone' });
        await create('b', [{ pkg: PKG, key: 'x', value: '1' }], NOW + 10);
        await expect(create('b')).rejects.toMatchObject({ reason: 'exists' });
        await store.commit(
          'b',
          { create: true, touch: { lastAccess: NOW + 20, expiresAt: NOW + 30 }, writes: [] },
          NOW + 20,
        );
        expect(await store.load('b', NOW + 20)).toEqual({
          createdAt: NOW + 20,
          lastAccess: NOW + 20,
          expiresAt: NOW + 30,
          entries: [],
        });
      });

      it('regenerates atomically, and fails when the replaced record is gone', async () => {
        await create('old', [{ pkg: PKG, key: 'x', value: '1' }]);
        const regenerate = (key: string) =>
          store.commit(
            key,
            {
              create: true,
              replaces: 'old',
              touch: { lastAccess: NOW, expiresAt: NOW + 60 },
              writes: [{ pkg: PKG, key: 'x', value: '1' }],
            },
            NOW,
          );
        await regenerate('new');
        expect(await store.load('old', NOW)).toBeUndefined();
        expect((await store.load('new', NOW))?.entries).toHaveLength(1);
        await expect(regenerate('newer')).rejects.toMatchObject({ reason: 'gone' });
        expect(await store.load('newer', NOW)).toBeUndefined();
      });

      it('enforces a limit by rejecting or by evicting the least recently used', async () => {
        for (const [i, key] of ['a', 'b', 'c'].entries()) await create(key, [], NOW + 100 + i);
        const limited = (key: string, policy: 'reject' | 'evict') =>
          store.commit(
            key,
            { create: true, touch: { lastAccess: NOW, expiresAt: NOW + 500 }, writes: [], limit: { max: 3, policy } },
            NOW,
          );
        await expect(limited('d', 'reject')).rejects.toThrow(SessionLimitError);
        expect(await store.load('d', NOW)).toBeUndefined();
        expect(await limited('d', 'evict')).toEqual({ evicted: ['a'] });
        expect(await store.count(NOW)).toBe(3);
        // More live records than a lowered limit: the creation evicts down to it, oldest first.
        const lowered = await store.commit(
          'f',
          {
            create: true,
            touch: { lastAccess: NOW, expiresAt: NOW + 500 },
            writes: [],
            limit: { max: 1, policy: 'evict' },
          },
          NOW,
        );
        expect([...lowered.evicted].sort()).toEqual(['b', 'c', 'd']);
        expect(await store.count(NOW)).toBe(1);
        await store.destroy('f');
        for (const key of ['b', 'c', 'd']) await create(key, [], NOW + 100 + key.charCodeAt(0) - 97);
        // Expired records do not count.
        expect(await limited('e', 'reject').catch((e: unknown) => e)).toBeInstanceOf(SessionLimitError);
        expect(
          await store.commit(
            'e',
            {
              create: true,
              touch: { lastAccess: NOW, expiresAt: NOW + 500 },
              writes: [],
              limit: { max: 3, policy: 'reject' },
            },
            NOW + 102,
          ),
        ).toEqual({ evicted: [] });
      });
    });

    describe('concurrency', () => {
      it('keeps all 50 concurrent writes to different keys of one session', async () => {
        await create('a');
        const results = await Promise.allSettled(
          Array.from({ length: 50 }, (_, i) =>
            store.commit(
              'a',
              { create: false, writes: [{ pkg: PKG, key: `k${i}`, value: String(i), expectVersion: 0 }] },
              NOW,
            ),
          ),
        );
        expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
        expect((await store.load('a', NOW))?.entries).toHaveLength(50);
      });

      it('lets exactly one of 50 read-then-write commits of one key win', async () => {
        await create('a', [{ pkg: PKG, key: 'n', value: '0' }]);
        // Every load finishes before any commit starts: a load the pool ran after the first
        // commit landed would read the new version and legitimately win too (issue 11 §3).
        const loaded = await Promise.all(Array.from({ length: 50 }, () => store.load('a', NOW)));
        const versions = loaded.map((record) => record?.entries.find((e) => e.key === 'n')?.version ?? 0);
        expect(new Set(versions)).toEqual(new Set([1]));
        const results = await Promise.allSettled(
          versions.map(async (version, i) => {
            await store.commit(
              'a',
              { create: false, writes: [{ pkg: PKG, key: 'n', value: String(i + 1), expectVersion: version }] },
              NOW,
            );
            return i + 1;
          }),
        );
        const won = results.filter((r) => r.status === 'fulfilled');
        const lost = results.filter((r) => r.status === 'rejected');
        expect(won).toHaveLength(1);
        for (const r of lost) expect(r.reason).toMatchObject({ reason: 'version', keys: [`${PKG} › n`] });
        expect((await store.load('a', NOW))?.entries).toEqual([
          { pkg: PKG, key: 'n', value: String(won[0]?.value), version: 2 },
        ]);
      });
    });

    describe('sweep and scan', () => {
      it('sweeps 3,000 expired among 6,000 in batches', async () => {
        const table = `"${SCHEMA}"."t${tables}`;
        await pool.query(
          `INSERT INTO ${table}_sessions" SELECT 'k' || i, $1::float8, $1::float8, $1::float8 + CASE WHEN i % 2 = 0 THEN -10 - i ELSE 10 + i END
           FROM generate_series(1, 6000) AS i`,
          [NOW],
        );
        await pool.query(`INSERT INTO ${table}_entries" SELECT key, 'p', 'k', 'v', 1 FROM ${table}_sessions"`);
        const batches: number[] = [];
        const removed = new Set<string>();
        sent.length = 0;
        const count = await store.sweep(NOW, {
          onRemoved: (keys) => {
            batches.push(keys.length);
            for (const k of keys) removed.add(k);
          },
        });
        const statements = sent.length;
        expect(count).toBe(3000);
        expect(batches).toEqual([1000, 1000, 1000]);
        expect(statements).toBe(4);
        expect([...removed].every((k) => Number(k.slice(1)) % 2 === 0)).toBe(true);
        expect(await store.count(NOW)).toBe(3000);
        const { rows } = await pool.query(`SELECT count(*)::int AS n FROM ${table}_entries"`);
        expect(rows).toEqual([{ n: 3000 }]);
        expect(await store.sweep(NOW)).toBe(0);
        console.log(`sweep of 3000/6000: ${statements} DELETE statements, batches ${batches.join(', ')}`);
      });

      it('scans every live record with its entries, page by page', async () => {
        const paged = await freshStore({ scanPageSize: 2 });
        const at = (key: string, expiresAt: number | null) =>
          paged.commit(
            key,
            { create: true, touch: { lastAccess: NOW, expiresAt }, writes: [{ pkg: PKG, key: 'id', value: key }] },
            NOW,
          );
        for (const key of ['e', 'a', 'd', 'b', 'c']) await at(key, NOW + 10);
        await at('f', null);
        await at('dead', NOW - 1);
        const scanned = [];
        for await (const record of paged.scan(NOW)) scanned.push(record);
        expect(scanned.map((r) => r.key)).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
        expect(scanned[5]).toEqual({
          key: 'f',
          createdAt: NOW,
          lastAccess: NOW,
          expiresAt: null,
          entries: [{ pkg: PKG, key: 'id', value: 'f', version: 1 }],
        });
      });
    });
  });
});
