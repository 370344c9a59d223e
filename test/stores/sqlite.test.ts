import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { ConflictError, SessionConfigError, StoreUnavailableError } from '../../src/errors.js';
import { SqliteStore } from '../../src/stores/sqlite/index.js';
import { prepareStatements } from '../../src/stores/sqlite/schema.js';
import type { NewRecordDelta, SessionDelta } from '../../src/stores/types.js';

const T0 = 1_700_000_000;
const dir = mkdtempSync(join(tmpdir(), 'tsession-sqlite-'));
let n = 0;
const freshPath = () => join(dir, `store-${n++}.db`);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const create = (expiresAt: number | null, writes: SessionDelta['writes'] = [], now = T0): NewRecordDelta => ({
  create: true,
  touch: { lastAccess: now, expiresAt },
  writes,
});
const write = (key: string, value: string | undefined, expectVersion?: number) => ({
  pkg: 'app',
  key,
  value,
  ...(expectVersion !== undefined && { expectVersion }),
});

describe('SqliteStore', () => {
  it('keeps data across close and reopen of the file, and creates the parent directory', async () => {
    const path = join(dir, 'nested', 'deeper', 'sessions.db');
    const first = new SqliteStore({ path });
    await first.commit('k1', create(T0 + 600, [write('a', '"1"'), write('b', '"2"')]), T0);
    await first.commit('k1', { create: false, writes: [write('a', '"1b"', 1)] }, T0 + 1);
    await first.commit('k2', create(null, [write('z', '"forever"')]), T0);
    await first.close();
    expect(existsSync(path)).toBe(true);

    const second = new SqliteStore({ path });
    const record = await second.load('k1', T0 + 2);
    expect(record).toMatchObject({ createdAt: T0, lastAccess: T0, expiresAt: T0 + 600 });
    expect([...(record?.entries ?? [])].sort((x, y) => (x.key < y.key ? -1 : 1))).toEqual([
      { pkg: 'app', key: 'a', value: '"1b"', version: 2 },
      { pkg: 'app', key: 'b', value: '"2"', version: 1 },
    ]);
    expect(await second.count(T0 + 2)).toBe(2);
    await expect(second.commit('k1', { create: false, writes: [write('a', '"stale"', 1)] }, T0 + 3)).rejects.toThrow(
      ConflictError,
    );
    await second.close();
  });

  it('uses WAL and synchronous=NORMAL on a file it opens', async () => {
    const store = new SqliteStore({ path: freshPath() });
    expect(store.database.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(store.database.pragma('synchronous', { simple: true })).toBe(1);
    await store.close();
    expect(store.database.open).toBe(false);
  });

  it('never closes a Database the app passed in, and leaves its own tables alone', async () => {
    const db = new Database(freshPath());
    db.exec("CREATE TABLE app_users (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO app_users (name) VALUES ('ann')");
    const store = new SqliteStore({ database: db });
    await store.commit('k1', create(T0 + 60, [write('a', '"1"')]), T0);
    await store.close();
    expect(db.open).toBe(true);
    expect(db.prepare('SELECT name FROM app_users').pluck().all()).toEqual(['ann']);
    const again = new SqliteStore({ database: db });
    expect((await again.load('k1', T0))?.entries).toHaveLength(1);
    await again.close();
    db.close();
  });

  it('keeps stores with different table prefixes in one file apart', async () => {
    const db = new Database(freshPath());
    const carts = new SqliteStore({ database: db, table: 'carts' });
    const users = new SqliteStore({ database: db, table: 'users' });
    await carts.commit('same', create(T0 + 10, [write('a', '"cart"')]), T0);
    await users.commit('same', create(T0 + 100, [write('a', '"user"')]), T0);
    await users.commit('other', create(T0 + 5), T0);
    expect((await carts.load('same', T0))?.entries[0]?.value).toBe('"cart"');
    expect((await users.load('same', T0))?.entries[0]?.value).toBe('"user"');
    expect([await carts.count(T0), await users.count(T0)]).toEqual([1, 2]);
    expect(await carts.sweep(T0 + 20)).toBe(1);
    expect((await users.load('same', T0 + 20))?.entries[0]?.value).toBe('"user"');
    expect(await users.destroy('same')).toBe(true);
    expect(await carts.load('same', T0)).toBeUndefined();
    db.close();
  });

  it('sweeps 10k expired among 20k records in batches, through the expires_at index', async () => {
    const store = new SqliteStore({ path: freshPath(), table: 'big' });
    for (let i = 0; i < 20_000; i++) {
      const expiresAt = i % 2 === 0 ? T0 - 1 - (i % 300) : T0 + 1 + (i % 300);
      await store.commit(`k${i}`, create(expiresAt, [write('i', `${i}`)], T0 - 1000), T0 - 1000);
    }
    const batches: number[] = [];
    const removed = await store.sweep(T0, { onRemoved: (keys) => batches.push(keys.length) });
    expect(removed).toBe(10_000);
    expect(batches).toEqual(Array(10).fill(1000));
    expect(await store.count(T0)).toBe(10_000);
    expect(store.database.prepare('SELECT count(*) FROM big_entries').pluck().get()).toBe(10_000);

    const sql = prepareStatements(store.database, 'big');
    for (const statement of [sql.expiredKeys, sql.countExpired, sql.oldestLive]) {
      const plan = store.database
        .prepare(`EXPLAIN QUERY PLAN ${statement.source}`)
        .all(...(statement === sql.oldestLive ? [T0, 'a', 'b', 1] : statement === sql.expiredKeys ? [T0, 1] : [T0]))
        .map((row) => (row as { detail: string }).detail)
        .join('\n');
      expect(plan).toMatch(/SEARCH big_sessions USING (COVERING )?INDEX big_sessions_expires \(expires_at[<>]/);
      expect(plan).not.toMatch(/SCAN big_sessions/);
    }
    await store.close();
  });

  it('keeps its record counter right through creates, re-creates, evictions, regenerates and sweeps', async () => {
    const store = new SqliteStore({ path: freshPath(), sweepBatchSize: 7, scanBatchSize: 5 });
    let seed = 42;
    const random = (m: number) => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) % m) as number;
    for (let step = 0; step < 600; step++) {
      const now = T0 + step;
      const key = `k${random(60)}`;
      const op = random(5);
      const delta: SessionDelta =
        op === 3
          ? { ...create(now + random(40)), limit: { max: 25, policy: 'evict' } }
          : op === 4
            ? { ...create(now + 30), replaces: `k${random(60)}` }
            : create(op === 0 ? null : now + random(50));
      if (op === 2) await store.destroy(key);
      else await store.commit(key, delta, now).catch((e) => expect(e).toBeInstanceOf(ConflictError));
      if (step % 50 === 0) await store.sweep(now);
      let scanned = 0;
      for await (const _ of store.scan(now)) scanned++;
      expect(await store.count(now)).toBe(scanned);
    }
    await store.close();
  });

  it('sees the commits of another connection to the same file, conflicts included', async () => {
    const path = freshPath();
    const a = new SqliteStore({ path });
    const b = new SqliteStore({ path });
    await a.commit('k1', create(T0 + 60, [write('n', '1')]), T0);
    const seen = await b.load('k1', T0);
    expect(seen?.entries[0]?.version).toBe(1);
    await a.commit('k1', { create: false, writes: [write('n', '2', 1)] }, T0 + 1);
    await expect(b.commit('k1', { create: false, writes: [write('n', '3', 1)] }, T0 + 1)).rejects.toMatchObject({
      reason: 'version',
      keys: ['app › n'],
    });
    await Promise.all([a.close(), b.close()]);
  });

  it('fails with StoreUnavailableError while another connection holds the write lock, then recovers', async () => {
    const path = freshPath();
    const store = new SqliteStore({ path, busyTimeout: 0.05 });
    await store.commit('k1', create(T0 + 60, [write('a', '"1"')]), T0);
    const other = new Database(path);
    other.exec('BEGIN IMMEDIATE');
    await expect(store.commit('k1', { create: false, writes: [write('a', '"2"')] }, T0)).rejects.toBeInstanceOf(
      StoreUnavailableError,
    );
    expect((await store.load('k1', T0))?.entries[0]?.value).toBe('"1"');
    other.exec('COMMIT');
    await store.commit('k1', { create: false, writes: [write('a', '"2"')] }, T0);
    expect((await store.load('k1', T0))?.entries[0]?.value).toBe('"2"');
    other.close();
    await store.close();
    await expect(store.load('k1', T0)).rejects.toBeInstanceOf(StoreUnavailableError);
  });

  it('refuses tables written by a newer schema, and invalid options, with SessionConfigError', async () => {
    const path = freshPath();
    await new SqliteStore({ path }).close();
    const db = new Database(path);
    db.prepare("UPDATE tsession_meta SET value = 99 WHERE name = 'schema'").run();
    expect(() => new SqliteStore({ database: db })).toThrow(/schema version 99/);
    expect(() => new SqliteStore({ database: db, path })).toThrow(SessionConfigError);
    expect(() => new SqliteStore({})).toThrow(/exactly one of `path`/);
    expect(() => new SqliteStore({ database: db, table: 'bad-name' })).toThrow(SessionConfigError);
    expect(() => new SqliteStore({ path, sweepBatchSize: 0 })).toThrow(/sweepBatchSize/);
    expect(() => new SqliteStore({ database: {} as Database.Database })).toThrow(/better-sqlite3 Database/);
    db.close();
    expect(() => new SqliteStore({ database: db })).toThrow(/closed/);
  });
});
