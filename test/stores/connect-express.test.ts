import type { AddressInfo } from 'node:net';
import express from 'express';
import session from 'express-session';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionConfigError } from '../../src/errors.js';
import {
  EXPRESS_SESSION_ENTRY,
  type ExpressSessionData,
  toExpressSessionStore,
} from '../../src/stores/connect/index.js';
import { MemoryStore } from '../../src/stores/memory/index.js';
import { PostgresStore } from '../../src/stores/postgres/index.js';
import { RedisStore } from '../../src/stores/redis/index.js';
import type { SessionStore } from '../../src/stores/types.js';
import { POSTGRES_URL, REDIS_URL, serviceAvailable, uniquePrefix } from '../support/services.js';

const NOW = 1_700_000_000;

declare module 'express-session' {
  interface SessionData {
    views?: number;
  }
}

/** An Express 5 app with express-session over `store`, listening on a free port. */
async function startApp(store: SessionStore) {
  const app = express();
  app.use(
    session({
      secret: 'connect-express-test-secret',
      store: toExpressSessionStore(store, { Store: session.Store }),
      resave: false,
      saveUninitialized: false,
      cookie: { maxAge: 60_000 },
    }),
  );
  app.get('/count', (req, res) => {
    req.session.views = (req.session.views ?? 0) + 1;
    res.send(String(req.session.views));
  });
  app.get('/peek', (req, res) => {
    res.send(String(req.session.views ?? 0));
  });
  app.get('/regenerate', (req, res, next) => {
    const views = req.session.views;
    req.session.regenerate((error) => {
      if (error) return next(error);
      if (views !== undefined) req.session.views = views;
      res.send('ok');
    });
  });
  app.get('/logout', (req, res, next) => {
    req.session.destroy((error) => (error ? next(error) : res.send('bye')));
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let cookie: string | undefined;
  const get = async (path: string) => {
    const response = await fetch(base + path, cookie ? { headers: { cookie } } : {});
    cookie = response.headers.get('set-cookie')?.split(';')[0] ?? cookie;
    return response.text();
  };
  const sid = () =>
    decodeURIComponent(cookie?.split('=')[1] ?? '')
      .replace(/^s:/, '')
      .split('.')[0] ?? '';
  return { get, sid, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('toExpressSessionStore: express-session over tsession stores', () => {
  it('Express 5 + express-session over MemoryStore: a counter persists across HTTP requests', async () => {
    const store = new MemoryStore({ sweepIntervalSeconds: 0 });
    const app = await startApp(store);
    try {
      expect([await app.get('/count'), await app.get('/count'), await app.get('/count')]).toEqual(['1', '2', '3']);
      expect(await app.get('/peek')).toBe('3');
      const record = await store.load(app.sid(), Date.now() / 1000);
      const entry = record?.entries.find((e) => e.pkg === 'express-session' && e.key === 'sess');
      expect(JSON.parse(entry?.value ?? '{}').views).toBe(3);
      expect((record?.expiresAt ?? 0) - Date.now() / 1000).toBeGreaterThan(50);
      expect((record?.expiresAt ?? 0) - Date.now() / 1000).toBeLessThanOrEqual(60);

      const before = app.sid();
      expect(await app.get('/regenerate')).toBe('ok');
      expect(app.sid()).not.toBe(before);
      expect(await store.load(before, Date.now() / 1000)).toBeUndefined();
      expect(await app.get('/count')).toBe('4');

      const last = app.sid();
      expect(await app.get('/logout')).toBe('bye');
      expect(await store.load(last, Date.now() / 1000)).toBeUndefined();
    } finally {
      await app.close();
    }
  });

  it('implements get/set/touch/destroy/all/length/clear with the TTL of the cookie', async () => {
    const store = new MemoryStore({ sweepIntervalSeconds: 0 });
    const adapted = toExpressSessionStore(store, { Store: session.Store, clock: () => NOW });
    const call = <T>(fn: (cb: (error?: unknown, result?: T) => void) => void) =>
      new Promise<T | undefined>((resolve, reject) => fn((error, result) => (error ? reject(error) : resolve(result))));
    const inOneMinute: ExpressSessionData = { cookie: { expires: new Date(Date.now() + 60_000) }, user: 'ann' };
    const browserSession: ExpressSessionData = { cookie: { expires: null, originalMaxAge: null }, user: 'bob' };

    await call((cb) => adapted.set('a', inOneMinute, cb));
    await call((cb) => adapted.set('b', browserSession, cb));
    expect(await call((cb) => adapted.get('a', cb))).toEqual(JSON.parse(JSON.stringify(inOneMinute)));
    expect(await call((cb) => adapted.get('missing', cb))).toBeNull();
    const a = await store.load('a', NOW);
    expect(a?.entries.map((e) => [e.pkg, e.key])).toEqual([[EXPRESS_SESSION_ENTRY.pkg, EXPRESS_SESSION_ENTRY.key]]);
    expect(a?.expiresAt).toBeGreaterThan(NOW + 59);
    expect(a?.expiresAt).toBeLessThanOrEqual(NOW + 60);
    expect((await store.load('b', NOW))?.expiresAt).toBe(NOW + 86_400);

    await call((cb) => adapted.touch('a', { cookie: { maxAge: 3_600_000 } }, cb));
    expect((await store.load('a', NOW))?.expiresAt).toBe(NOW + 3600);
    await call((cb) => adapted.touch('gone', { cookie: { maxAge: 1000 } }, cb));
    expect(await store.load('gone', NOW)).toBeUndefined();

    expect(await call<number>((cb) => adapted.length(cb))).toBe(2);
    expect(Object.keys((await call<Record<string, unknown>>((cb) => adapted.all(cb))) ?? {}).sort()).toEqual([
      'a',
      'b',
    ]);
    await call((cb) => adapted.set('b', { cookie: { expires: new Date(Date.now() - 1000) } }, cb));
    expect(await store.load('b', NOW)).toBeUndefined();
    await call((cb) => adapted.destroy('a', cb));
    expect(await call<number>((cb) => adapted.length(cb))).toBe(0);

    await call((cb) => adapted.set('c', browserSession, cb));
    await call((cb) => adapted.clear(cb));
    expect(await call<number>((cb) => adapted.length(cb))).toBe(0);
  });

  it('is an instance of the Store class it was given, loaded lazily when not given', () => {
    const store = new MemoryStore({ sweepIntervalSeconds: 0 });
    expect(toExpressSessionStore(store, { Store: session.Store })).toBeInstanceOf(session.Store);
    expect(toExpressSessionStore(store)).toBeInstanceOf(session.Store);
    expect(() => toExpressSessionStore({} as SessionStore)).toThrow(SessionConfigError);
  });
});

const redisAvailable = await serviceAvailable('redis');

describe.skipIf(!redisAvailable)('toExpressSessionStore over RedisStore', () => {
  const prefix = `${uniquePrefix('connect_express')}:`;
  let store: RedisStore;

  beforeAll(() => {
    store = new RedisStore({ url: REDIS_URL, prefix });
  });
  afterAll(async () => {
    await store?.close();
    const redis = new Redis(REDIS_URL);
    const keys: string[] = [];
    for await (const batch of redis.scanStream({ match: `${prefix}*` })) keys.push(...batch);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  it('Express 5 + express-session over Redis: a counter persists across HTTP requests', async () => {
    const app = await startApp(store);
    try {
      expect([await app.get('/count'), await app.get('/count'), await app.get('/count')]).toEqual(['1', '2', '3']);
      const record = await store.load(app.sid(), Date.now() / 1000);
      expect(JSON.parse(record?.entries[0]?.value ?? '{}').views).toBe(3);
      expect(await app.get('/logout')).toBe('bye');
      expect(await store.load(app.sid(), Date.now() / 1000)).toBeUndefined();
    } finally {
      await app.close();
    }
  });
});

const pgAvailable = await serviceAvailable('postgres');

describe.skipIf(!pgAvailable)('toExpressSessionStore over PostgresStore', () => {
  const schema = uniquePrefix('connect_express');
  let store: PostgresStore;

  beforeAll(async () => {
    store = new PostgresStore({ connectionString: POSTGRES_URL, schema });
    await store.migrate();
  });
  afterAll(async () => {
    await store?.close();
    const { Client } = (await import('pg')).default;
    const admin = new Client({ connectionString: POSTGRES_URL });
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  });

  it('Express 5 + express-session over PostgreSQL: a counter persists across HTTP requests', async () => {
    const app = await startApp(store);
    try {
      expect([await app.get('/count'), await app.get('/count'), await app.get('/count')]).toEqual(['1', '2', '3']);
      const record = await store.load(app.sid(), Date.now() / 1000);
      expect(JSON.parse(record?.entries[0]?.value ?? '{}').views).toBe(3);
    } finally {
      await app.close();
    }
  });
});
