/**
 * toExpressSessionStore behaves like express-session's own stores where its suite and
 * connect-redis 9 users rely on it: `touch` stores the new cookie, every method answers a
 * callback or, without one, a promise, and an exception thrown by a callback propagates
 * as with express-session's MemoryStore. On memory, SQLite, Redis and PostgreSQL.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import session from 'express-session';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { type ExpressSessionData, toExpressSessionStore } from '../../src/stores/connect/index.js';
import { MemoryStore } from '../../src/stores/memory/index.js';
import { PostgresStore } from '../../src/stores/postgres/index.js';
import { RedisStore } from '../../src/stores/redis/index.js';
import { SqliteStore } from '../../src/stores/sqlite/index.js';
import type { SessionStore } from '../../src/stores/types.js';
import { countCalls } from '../helpers.js';
import { POSTGRES_URL, REDIS_URL, serviceAvailable, uniquePrefix } from '../support/services.js';

const redisAvailable = await serviceAvailable('redis');
const pgAvailable = await serviceAvailable('postgres');
const dir = await mkdtemp(join(tmpdir(), 'tsession-connect-compat-'));
const redisPrefix = `${uniquePrefix('connect_compat')}:`;
const pgSchema = uniquePrefix('connect_compat');
let made = 0;

const stores: [string, boolean, () => SessionStore][] = [
  ['MemoryStore', true, () => new MemoryStore({ sweepIntervalSeconds: 0 })],
  ['SqliteStore', true, () => new SqliteStore({ path: join(dir, `s${++made}.db`) })],
  ['RedisStore', redisAvailable, () => new RedisStore({ url: REDIS_URL, prefix: `${redisPrefix}${++made}:` })],
  [
    'PostgresStore',
    pgAvailable,
    () =>
      new PostgresStore({ connectionString: POSTGRES_URL, schema: pgSchema, table: `t${++made}`, autoMigrate: true }),
  ],
];
const opened: SessionStore[] = [];

afterAll(async () => {
  for (const store of opened) await store.close();
  await rm(dir, { recursive: true, force: true });
  if (redisAvailable) {
    const redis = new Redis(REDIS_URL);
    const keys: string[] = [];
    for await (const batch of redis.scanStream({ match: `${redisPrefix}*` })) keys.push(...batch);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  }
  if (pgAvailable) {
    const { Client } = (await import('pg')).default;
    const admin = new Client({ connectionString: POSTGRES_URL });
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS "${pgSchema}" CASCADE`);
    await admin.end();
  }
});

/** A session as express-session hands it to a store: JSON-able, with a cookie expiring in `ms`. */
function sessionFor(ms: number, data: Record<string, unknown>): ExpressSessionData {
  return { cookie: { originalMaxAge: ms, expires: new Date(Date.now() + ms).toISOString() }, ...data };
}

for (const [name, available, make] of stores) {
  describe.skipIf(!available)(`toExpressSessionStore over ${name}`, () => {
    const adapt = () => {
      const store = make();
      opened.push(store);
      return { store, adapted: toExpressSessionStore(store, { Store: session.Store }) };
    };

    it('touch stores the new cookie: a later get returns the new cookie.expires, with the stored data', async () => {
      const { store, adapted } = adapt();
      await adapted.set('sid', sessionFor(60_000, { views: 3 }));
      const touched = sessionFor(3_600_000, { views: 99 }); // touch carries the cookie, not the data
      await adapted.touch('sid', touched);
      const read = await adapted.get('sid');
      expect(read?.cookie.expires).toBe(touched.cookie.expires);
      expect(read?.cookie.originalMaxAge).toBe(3_600_000);
      expect(read?.views).toBe(3);
      const expiresAt = (await store.load('sid', Date.now() / 1000))?.expiresAt ?? 0;
      expect(expiresAt - Date.now() / 1000).toBeGreaterThan(3000); // the record lives as long as its new cookie
      await adapted.touch('never-set', touched);
      expect(await adapted.get('never-set')).toBeNull(); // a touch never creates a session

      const later = sessionFor(120_000, { views: 4 });
      await adapted.set('sid', later); // a set carries its own cookie, superseding the touched one
      expect(await adapted.get('sid')).toEqual(later);
    });

    it('a touch is one write and no read of the store', async () => {
      const { store, adapted } = adapt();
      await adapted.set('sid', sessionFor(60_000, { views: 1 }));
      const calls = countCalls(store);
      await adapted.touch('sid', sessionFor(3_600_000, {}));
      expect(calls).toEqual({ load: 0, commit: 1, destroy: 0 });
    });

    it('every method returns a promise without a callback, and nothing (calling back) with one', async () => {
      const { adapted } = adapt();
      const a = sessionFor(60_000, { user: 'ann' });
      expect(await adapted.set('a', a)).toBeUndefined();
      expect(await adapted.set('b', sessionFor(60_000, { user: 'bob' }))).toBeUndefined();
      expect(await adapted.get('a')).toEqual(a);
      expect(await adapted.get('missing')).toBeNull();
      expect(await adapted.length()).toBe(2);
      expect(Object.keys(await adapted.all()).sort()).toEqual(['a', 'b']);
      expect(await adapted.destroy('b')).toBeUndefined();
      expect(await adapted.length()).toBe(1);
      await adapted.clear();
      expect(await adapted.length()).toBe(0);

      const called = await new Promise<[unknown, unknown, unknown]>((resolve) => {
        const returned = adapted.set('c', a, (error) => {
          const again = adapted.get('c', (error2, result) => resolve([error ?? error2 ?? null, result, again]));
        });
        expect(returned).toBeUndefined();
      });
      expect(called).toEqual([null, a, undefined]);
    });
  });
}

describe('an exception thrown by a callback', () => {
  const script = fileURLToPath(new URL('./support/callback-throws.ts', import.meta.url));
  const reached = (store: string) =>
    new Promise<string>((resolve, reject) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', '--conditions=tsession-source', script, store],
        (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout.trim())),
      );
    });

  it("propagates as an uncaught exception, as with express-session's own MemoryStore, not as an unhandled rejection", async () => {
    const reference = await reached('express-session');
    expect(reference).toBe('uncaughtException: thrown by the callback');
    expect(await reached('tsession')).toBe(reference);
  });
});
