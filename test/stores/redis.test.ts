import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { describeStoreContract } from '../../src/conformance/index.js';
import {
  ConflictError,
  CookieClientIdManager,
  SessionConfigError,
  SessionDataContainer,
  SessionManager,
  StoreUnavailableError,
} from '../../src/index.js';
import { RedisStore } from '../../src/stores/redis/index.js';
import type { SessionDelta } from '../../src/stores/types.js';
import { cookieFrom, manualClock, request, SECRET } from '../helpers.js';
import {
  commandStats,
  deletePrefix,
  monitorCommands,
  type RedisServer,
  startRedisServer,
} from '../support/redis-cluster.js';
import { REDIS_URL, serviceAvailable, uniquePrefix } from '../support/services.js';

const available = await serviceAvailable('redis');
const T0 = 1_700_000_000;

describeStoreContract(
  'RedisStore (standalone, own client from url)',
  async () => {
    const prefix = `${uniquePrefix('redis')}:`;
    return {
      store: new RedisStore({ url: REDIS_URL, prefix }),
      cleanup: async () => {
        const admin = new Redis(REDIS_URL);
        await deletePrefix(admin, prefix);
        admin.disconnect();
      },
    };
  },
  { describe: available ? describe : describe.skip, it, beforeEach, afterEach },
  { capabilities: { limit: false, atomicRegenerate: true, perKeyVersions: true } },
);

describe.skipIf(!available)('RedisStore on the shared server', () => {
  let client: Redis;
  let prefix: string;
  let store: RedisStore;
  beforeEach(() => {
    client = new Redis(REDIS_URL);
    prefix = `${uniquePrefix('redis')}:`;
    store = new RedisStore({ client, prefix });
  });
  afterEach(async () => {
    await store.close();
    await deletePrefix(client, prefix);
    client.disconnect();
  });

  it('keeps one hash per client, hash-tagged, with a meta field, a commit sequence, its size and one field per entry', async () => {
    const writes = [{ pkg: 'app.cart', key: 'items', value: '[1]' }];
    await store.commit('abc', { create: true, touch: { lastAccess: T0, expiresAt: T0 + 60 }, writes }, T0);
    expect((await client.keys(`${prefix}*`)).sort()).toEqual([`${prefix}{abc}`, `${prefix}{}:expiry`]);
    expect(await client.zrange(`${prefix}{}:expiry`, 0, -1, 'WITHSCORES')).toEqual(['abc', String(T0 + 60)]);
    expect(await client.hgetall(`${prefix}{abc}`)).toEqual({
      m: `1:${T0}:${T0}:${T0 + 60}`,
      s: '1',
      b: String('app.cart'.length + 'items'.length + '[1]'.length),
      p: '1',
      'k:app.cart': '1',
      'e:app.cart\0items': '1:[1]',
    });
  });

  it('sets the key TTL from expiresAt plus the grace, keeps it on commits that do not move expiry, persists for null', async () => {
    const touch = (at: number, expiresAt: number | null) => ({ lastAccess: at, expiresAt });
    await store.commit('k', { create: true, touch: touch(T0, T0 + 100), writes: [] }, T0);
    const ttl = await client.pttl(`${prefix}{k}`);
    expect(ttl).toBeGreaterThan(150_000); // 100 s + 60 s grace, less the time the test took
    expect(ttl).toBeLessThanOrEqual(160_000);
    await client.pexpire(`${prefix}{k}`, 500_000); // a marker: commits without a later expiry leave it alone
    await store.commit('k', { create: false, writes: [{ pkg: 'p', key: 'a', value: '1' }] }, T0 + 1);
    await store.commit('k', { create: false, touch: touch(T0 + 1, T0 + 50), writes: [] }, T0 + 1);
    expect(await client.pttl(`${prefix}{k}`)).toBeGreaterThan(400_000);
    await store.commit('k', { create: false, touch: touch(T0 + 2, T0 + 1000), writes: [] }, T0 + 2);
    expect(await client.pttl(`${prefix}{k}`)).toBeLessThanOrEqual(1_058_000);
    await store.commit('k', { create: false, touch: touch(T0 + 3, null), writes: [] }, T0 + 3);
    expect(await client.pttl(`${prefix}{k}`)).toBe(-1);
    expect((await store.load('k', T0 + 10_000_000))?.expiresAt).toBeNull();
  });

  it('lets Redis delete an expired session by itself', async () => {
    const quick = new RedisStore({ client, prefix, ttlGraceSeconds: 0 });
    const now = Date.now() / 1000;
    await quick.commit('k', { create: true, touch: { lastAccess: now, expiresAt: now + 0.05 }, writes: [] }, now);
    expect(await client.pttl(`${prefix}{k}`)).toBeGreaterThan(0);
    // Polls up to 15 s: Redis expires keys by sampling, later on a busy machine.
    for (let i = 0; i < 300 && (await client.exists(`${prefix}{k}`)) === 1; i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(await client.exists(`${prefix}{k}`)).toBe(0);
  });

  it('sweep removes records whose metadata expired before their TTL fired, and nothing else', async () => {
    await store.commit('dead', { create: true, touch: { lastAccess: T0, expiresAt: T0 + 1 }, writes: [] }, T0);
    await store.commit('live', { create: true, touch: { lastAccess: T0, expiresAt: T0 + 9 }, writes: [] }, T0);
    await client.set(`${prefix}unrelated`, 'x');
    const removed: string[] = [];
    expect(await store.sweep(T0 + 5, { onRemoved: (keys) => removed.push(...keys) })).toBe(1);
    expect(removed).toEqual(['dead']);
    expect(await client.exists(`${prefix}{dead}`, `${prefix}{live}`, `${prefix}unrelated`)).toBe(2);
  });

  it('close() leaves a client the app passed in open', async () => {
    await store.load('x', T0);
    await store.close();
    expect(client.status).toBe('ready');
    expect(await client.ping()).toBe('PONG');
  });

  it('validates its options at construction, naming the fix', () => {
    const bad = [{}, { url: REDIS_URL, client }, { url: 'http://x' }, { client, prefix: 'a{b' }];
    const prefixed = new Redis(REDIS_URL, { keyPrefix: 'x:', lazyConnect: true });
    const more = [{ client, commandTimeoutSeconds: 0 }, { client, ttlGraceSeconds: -1 }, { client: prefixed }];
    more.push(
      { client, waitReplicas: -1 } as never,
      { client, waitReplicas: 1.5 } as never,
      { client, waitReplicas: 1, commandTimeoutSeconds: 1, waitTimeoutSeconds: 1 } as never,
    );
    for (const options of [...bad, ...more]) {
      expect(() => new RedisStore(options as never)).toThrow(SessionConfigError);
    }
    expect(() => new RedisStore({} as never)).toThrow(/RedisStore: give exactly one of `client`/);
  });
});

describe('RedisStore when Redis is down', () => {
  it('fails with StoreUnavailableError (with a cause) within the timeout on a closed port', async () => {
    const store = new RedisStore({ url: 'redis://127.0.0.1:1', commandTimeoutSeconds: 0.5 });
    try {
      const started = Date.now();
      const calls = [
        store.load('k', T0),
        store.commit('k', { create: true, touch: { lastAccess: T0, expiresAt: T0 + 1 }, writes: [] }, T0),
        store.destroy('k'),
        store.sweep(T0),
      ];
      for (const call of calls) {
        const error = await call.then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(StoreUnavailableError);
        expect((error as StoreUnavailableError).status).toBe(503);
      }
      expect(Date.now() - started).toBeLessThan(3_000); // bounded: never hangs past the timeout
      const later = await store.load('k', T0).catch((e: unknown) => e);
      expect(later).toBeInstanceOf(StoreUnavailableError);
      expect((later as Error).cause).toBeDefined();
    } finally {
      await store.close();
    }
  });
});

describe('RedisStore on a private server (round trips counted by INFO commandstats)', () => {
  let server: RedisServer;
  let admin: Redis;
  let monitor: Awaited<ReturnType<typeof monitorCommands>>;
  beforeAll(async () => {
    server = await startRedisServer(['--appendonly', 'yes', '--appendfsync', 'always']);
    admin = new Redis(server.url);
    monitor = await monitorCommands(server.url);
  });
  afterAll(async () => {
    monitor?.close();
    admin?.disconnect();
    await server?.stop();
  });

  /** The requests clients sent while `task` ran (MONITOR; a script's inner commands are not requests). */
  const sent = (task: () => Promise<unknown>) => monitor.during(task);
  /** Every command the server executed while `task` ran, scripts' inner commands included (INFO commandstats). */
  const executed = async (task: () => Promise<unknown>): Promise<Record<string, number>> => {
    await admin.config('RESETSTAT');
    await task();
    const stats = await commandStats(admin);
    for (const own of ['config|resetstat', 'info', 'config']) delete stats[own];
    return stats;
  };

  it('a load is one HGETALL; a commit is one EVALSHA, whatever it changes', async () => {
    const store = new RedisStore({ url: server.url, prefix: 'rt:' });
    const writes = Array.from({ length: 20 }, (_, i) => ({ pkg: 'app', key: `k${i}`, value: `${i}` }));
    await store.commit('warm', { create: true, touch: { lastAccess: T0, expiresAt: T0 + 60 }, writes: [] }, T0);
    expect(await sent(() => store.load('warm', T0))).toEqual(['hgetall']);
    expect(await executed(() => store.load('warm', T0))).toEqual({ hgetall: 1 });
    const delta: SessionDelta = { create: true, touch: { lastAccess: T0, expiresAt: T0 + 60 }, writes };
    expect(await sent(() => store.commit('k', delta, T0))).toEqual(['evalsha']);
    const update: SessionDelta = {
      create: false,
      clear: true,
      touch: { lastAccess: T0 + 1, expiresAt: T0 + 61 },
      writes: [{ pkg: 'app', key: 'k1', value: '"x"', expectVersion: 1 }],
    };
    expect(await sent(() => store.commit('k', update, T0 + 1))).toEqual(['evalsha']);
    const stale: SessionDelta = { create: false, writes: [{ pkg: 'app', key: 'k1', value: '"y"', expectVersion: 1 }] };
    const conflicted = await executed(() => store.commit('k', stale, T0 + 1).catch((e: unknown) => e));
    expect(conflicted).toEqual({ evalsha: 1, hget: 2 }); // a conflict reads, and writes nothing
    await store.close();
  });

  it('a read-only request inside the resolution window sends one HGETALL and no write command', async () => {
    const clock = manualClock(T0);
    const store = new RedisStore({ url: server.url, prefix: 'req:' });
    const container = new SessionDataContainer({ store, clock, timeout: 3600, resolution: 600 });
    const manager = new SessionManager({ clientIds: new CookieClientIdManager({ secret: SECRET, clock }), container });
    const first = manager.open(request());
    (await first.get('app.cart')).set('items', ['book']);
    await first.commit();
    const cookie = cookieFrom(first.responseHeaders) as string;

    const readOnly = async () => {
      const session = manager.open(request({ cookie }));
      expect((await session.get('app.cart')).get('items')).toEqual(['book']);
      await session.commit();
    };
    clock.advance(599);
    expect(await executed(readOnly)).toEqual({ hgetall: 1 });
    clock.advance(2); // past the resolution: the last-access time is written once
    expect(await sent(readOnly)).toEqual(['hgetall', 'evalsha']);
    expect(await executed(readOnly)).toEqual({ hgetall: 1 });

    const readModifyWrite = async () => {
      const session = manager.open(request({ cookie }));
      const cart = await session.get('app.cart');
      cart.set('items', [...(cart.get('items') as string[]), 'pen']);
      await session.commit();
    };
    expect(await sent(readModifyWrite)).toEqual(['hgetall', 'evalsha']);
    await store.close();
  });

  it('fails fast while the server is down and recovers by itself, with committed data intact', async () => {
    const store = new RedisStore({ url: server.url, prefix: 'outage:', commandTimeoutSeconds: 0.5 });
    const touch = { lastAccess: T0, expiresAt: T0 + 3600 };
    await store.commit('k', { create: true, touch, writes: [{ pkg: 'app', key: 'a', value: '"kept"' }] }, T0);
    const appClient = new Redis(server.url); // ioredis defaults: offline queue on, 20 retries per request
    appClient.on('error', () => {});
    const appStore = new RedisStore({ client: appClient, prefix: 'outage:', commandTimeoutSeconds: 0.5 });
    expect((await appStore.load('k', T0))?.entries).toHaveLength(1);
    admin.disconnect();
    await server.kill();
    const down = await store.load('k', T0).catch((e: unknown) => e);
    expect(down).toBeInstanceOf(StoreUnavailableError);
    const started = Date.now();
    await expect(appStore.load('k', T0)).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(Date.now() - started).toBeLessThan(3_000); // bounded even with the app client's defaults
    const commit = store.commit('k', { create: false, writes: [{ pkg: 'app', key: 'b', value: '1' }] }, T0);
    await expect(commit).rejects.toBeInstanceOf(StoreUnavailableError);

    await server.restart();
    admin = new Redis(server.url);
    let record = await store.load('k', T0).catch(() => undefined);
    for (let i = 0; i < 100 && record === undefined; i++) {
      await new Promise((r) => setTimeout(r, 100));
      record = await store.load('k', T0).catch(() => undefined);
    }
    expect(record?.entries).toEqual([{ pkg: 'app', key: 'a', value: '"kept"', version: 1 }]);
    let viaApp = await appStore.load('k', T0).catch(() => undefined);
    for (let i = 0; i < 100 && viaApp === undefined; i++) {
      await new Promise((r) => setTimeout(r, 100));
      viaApp = await appStore.load('k', T0).catch(() => undefined);
    }
    expect(viaApp?.entries).toHaveLength(1);
    await store.close();
    appClient.disconnect();
  });

  it('invalidate is final: a commit after destroy is gone, even a touch', async () => {
    const store = new RedisStore({ url: server.url, prefix: 'final:' });
    await store.commit('k', { create: true, touch: { lastAccess: T0, expiresAt: T0 + 60 }, writes: [] }, T0);
    await store.destroy('k');
    const touch: SessionDelta = { create: false, touch: { lastAccess: T0 + 1, expiresAt: T0 + 61 }, writes: [] };
    await expect(store.commit('k', touch, T0 + 1)).rejects.toBeInstanceOf(ConflictError);
    expect(await admin.exists('final:{k}')).toBe(0);
    await store.close();
  });

  it('waitReplicas: WAIT follows each write in the same round trip; with no replica the write fails as unavailable', async () => {
    const store = new RedisStore({ url: server.url, prefix: 'durable:', waitReplicas: 1, waitTimeoutSeconds: 0.05 });
    const delta: SessionDelta = { create: true, touch: { lastAccess: T0, expiresAt: T0 + 60 }, writes: [] };
    await store.load('warm', T0);
    const failure = await store.commit('k', delta, T0).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(StoreUnavailableError);
    expect((failure as Error).message).toMatch(/only 0 of 1 replicas acknowledged/);
    // the master has the write: the request failed, it may still be applied (as after any timeout)
    expect(await store.load('k', T0)).toBeDefined();
    // a refused commit wrote nothing: it stays a refusal, whatever WAIT answered
    await expect(store.commit('k', delta, T0)).rejects.toBeInstanceOf(ConflictError);
    await store.destroy('k').catch(() => undefined); // a script's first run on a connection is an EVAL
    expect(await store.load('k', T0)).toBeUndefined();
    await store.commit('k', delta, T0).catch(() => undefined);
    const sent = await monitor.during(() => store.destroy('k').catch(() => undefined));
    expect(sent.sort()).toEqual(['evalsha', 'wait']);
    await store.close();
  });
});
