/**
 * The Redis expiry index, on a private standalone server and on a 3-master Cluster:
 * `onEnd('expired')` fires exactly once for every expired session, whether the sweep or
 * Redis's own key TTL got there first, and a sweep's cost (the commands the server
 * executes, scripts' inner ones included, by INFO commandstats) does not grow with the
 * number of live records.
 */
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionDataContainer, type SessionEndReason } from '../../src/index.js';
import { RedisStore } from '../../src/stores/redis/index.js';
import { manualClock } from '../helpers.js';
import {
  commandStats,
  type RedisCluster,
  type RedisServer,
  startRedisCluster,
  startRedisServer,
} from '../support/redis-cluster.js';
import { uniquePrefix } from '../support/services.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Creates `n` records `<label><i>` expiring at `expiresAt`, 200 commits at a time. */
async function fill(store: RedisStore, label: string, n: number, now: number, expiresAt: number): Promise<string[]> {
  const keys = Array.from({ length: n }, (_, i) => `${label}${i}`);
  for (let i = 0; i < n; i += 200) {
    await Promise.all(
      keys
        .slice(i, i + 200)
        .map((key) =>
          store.commit(
            key,
            { create: true, touch: { lastAccess: now, expiresAt }, writes: [{ pkg: 'p', key: 'k', value: '1' }] },
            now,
          ),
        ),
    );
  }
  return keys;
}

/** Waits (bounded, no timing asserted) until Redis's TTL has deleted every one of `keys`. */
async function untilReclaimed(exists: (key: string) => Promise<number>, keys: readonly string[]): Promise<void> {
  for (let attempt = 0; attempt < 400; attempt++) {
    const left = await Promise.all(keys.map(exists));
    if (left.every((n) => n === 0)) return;
    await sleep(50);
  }
  throw new Error('Redis did not reclaim the records by their TTL within 20 s');
}

/** The cases both deployments share; `admin` answers for every node holding data. */
function expiryCases(setup: () => { url: string; nodes: () => Redis[] }) {
  /** Every command the data nodes executed while `task` ran (summed over nodes). */
  const executed = async (task: () => Promise<unknown>): Promise<Record<string, number>> => {
    const nodes = setup().nodes();
    await Promise.all(nodes.map((n) => n.config('RESETSTAT')));
    await task();
    const total: Record<string, number> = {};
    for (const node of nodes) {
      for (const [name, calls] of Object.entries(await commandStats(node))) total[name] = (total[name] ?? 0) + calls;
    }
    for (const own of ['config|resetstat', 'info', 'config', 'cluster|slots', 'cluster|nodes', 'cluster', 'ping'])
      delete total[own];
    // A script's first run on a node is an EVAL (NOSCRIPT fallback), later ones EVALSHA: count them as one.
    total.evalsha = (total.evalsha ?? 0) + (total.eval ?? 0);
    delete total.eval;
    return total;
  };

  it('onEnd(expired) fires once for every expired session: swept ones and ones the TTL reclaimed first', async () => {
    const prefix = `${uniquePrefix('expiry')}:`;
    const { url } = setup();
    const quick = new RedisStore({ url, prefix, ttlGraceSeconds: 0 }); // the TTL fires at expiresAt
    const slow = new RedisStore({ url, prefix, ttlGraceSeconds: 3600 }); // the TTL fires an hour later
    const now = Date.now() / 1000;
    const reclaimed = await fill(quick, 'ttl', 40, now, now + 0.05);
    const lingering = await fill(slow, 'meta', 40, now, now + 0.05);
    const live = await fill(slow, 'live', 20, now, now + 3600);
    const ended = await fill(quick, 'gone', 10, now, now + 0.05);
    await slow.commit('forever', { create: true, touch: { lastAccess: now, expiresAt: null }, writes: [] }, now);
    const clock = manualClock(now);
    const ends: [string, SessionEndReason][] = [];
    const container = new SessionDataContainer({
      store: slow,
      clock,
      onEnd: (key, reason) => ends.push([key, reason]),
    });
    for (const key of ended) await container.destroy(key, 'invalidated');
    await untilReclaimed((k) => slow.client.exists(`${prefix}{${k}}`), [...reclaimed, ...ended]);
    expect(await Promise.all(lingering.map((k) => slow.client.exists(`${prefix}{${k}}`)))).toEqual(
      lingering.map(() => 1),
    );

    clock.set(now + 1);
    expect(await container.sweep()).toBe(80);
    const expired = ends.filter(([, reason]) => reason === 'expired').map(([key]) => key);
    expect(expired.sort()).toEqual([...reclaimed, ...lingering].sort());
    expect(ends.filter(([, reason]) => reason === 'invalidated')).toHaveLength(10);
    expect(await container.sweep()).toBe(0);
    expect(ends.filter(([, reason]) => reason === 'expired')).toHaveLength(80);
    for (const key of [...live, 'forever']) expect(await container.load(key)).toBeDefined();
    for (const key of lingering) expect(await slow.client.exists(`${prefix}{${key}}`)).toBe(0);
    container.close();
    await Promise.all([quick.close(), slow.close()]);
  });

  it('two sweeps at once report each expired session exactly once between them', async () => {
    const prefix = `${uniquePrefix('expiry')}:`;
    const store = new RedisStore({ url: setup().url, prefix });
    const T0 = 1_700_000_000;
    const dead = await fill(store, 'd', 1_200, T0, T0 + 10);
    await fill(store, 'l', 100, T0, T0 + 1_000);
    const reported: string[] = [];
    const counts = await Promise.all(
      [1, 2].map(() => store.sweep(T0 + 20, { onRemoved: (keys) => reported.push(...keys) })),
    );
    expect(counts[0]! + counts[1]!).toBe(1_200);
    expect(reported.sort()).toEqual(dead.sort());
    await store.close();
  });

  it('a regenerated record leaves the index with its old key: only the new one is reported when it expires', async () => {
    const prefix = `${uniquePrefix('expiry')}:`;
    const store = new RedisStore({ url: setup().url, prefix });
    const T0 = 1_700_000_000;
    await fill(store, 'old', 1, T0, T0 + 10);
    await store.commit(
      'new0',
      { create: true, replaces: 'old0', touch: { lastAccess: T0, expiresAt: T0 + 10 }, writes: [] },
      T0,
    );
    const reported: string[] = [];
    expect(await store.sweep(T0 + 20, { onRemoved: (keys) => reported.push(...keys) })).toBe(1);
    expect(reported).toEqual(['new0']);
    await store.close();
  });

  it('a sweep executes the same commands whatever the number of live records', async () => {
    const prefix = `${uniquePrefix('expiry')}:`;
    const store = new RedisStore({ url: setup().url, prefix });
    const T0 = 1_700_000_000;
    await fill(store, 'live-a', 200, T0, T0 + 1_000);
    await fill(store, 'dead-a', 300, T0, T0 + 10);
    const few = await executed(() => store.sweep(T0 + 20));
    await fill(store, 'live-b', 3_000, T0, T0 + 1_000);
    await fill(store, 'dead-b', 300, T0 + 100, T0 + 110);
    const many = await executed(() => store.sweep(T0 + 120));
    expect(many).toEqual(few);
    // What it costs: per index one ZRANGEBYSCORE (plus one per 500 expired), per expired record a ZSCORE, HGET, DEL, ZREM.
    expect(few.del).toBe(300);
    expect(few.zrem).toBe(300);
    expect(few.scan).toBeUndefined();
    console.log(`[scale] redis sweep of 300 expired among 200 vs 3,200 live: ${JSON.stringify(many)}`);
    await store.close();
  });
}

/** A private standalone redis-server for the describe block that calls it, and an admin client on it. */
function privateRedis(): { server: RedisServer; admin: Redis } {
  const held = {} as { server: RedisServer; admin: Redis };
  beforeAll(async () => {
    held.server = await startRedisServer();
    held.admin = new Redis(held.server.url);
  });
  afterAll(async () => {
    held.admin?.disconnect();
    await held.server?.stop();
  });
  return held;
}

describe('RedisStore expiry index on a private standalone server', () => {
  const redis = privateRedis();
  expiryCases(() => ({ url: redis.server.url, nodes: () => [redis.admin] }));
});

describe('RedisStore expiry index that lags the records (as a replica read can during a failover)', () => {
  const redis = privateRedis();

  it('a sweep over full batches of index entries that name only live records ends, removing nothing', async () => {
    const prefix = `${uniquePrefix('lag')}:`;
    const store = new RedisStore({ url: redis.server.url, prefix });
    const T0 = 1_700_000_000;
    const keys = await fill(store, 'live', 600, T0, T0 + 3_600);
    // Index entries older than the records say, more than one batch of them: the sweep
    // must neither remove nor report a live record, and must end.
    const index = (await redis.admin.keys(`${prefix}*:expiry`))[0] as string;
    await redis.admin.zadd(index, ...keys.flatMap((key) => [1, key]));
    const ended: string[] = [];
    expect(await store.sweep(T0 + 10, { onRemoved: (batch) => ended.push(...batch) })).toBe(0);
    expect(ended).toEqual([]);
    expect(await store.load('live0', T0 + 10)).toBeDefined();
    await store.close();
  });
});

describe('RedisStore expiry index on a 3-master Cluster (one index per slot)', () => {
  let cluster: RedisCluster;
  let client: Cluster;
  beforeAll(async () => {
    cluster = await startRedisCluster();
    client = new Cluster(cluster.ports.map((port) => ({ host: '127.0.0.1', port })));
    await client.ping();
  }, 120_000);
  afterAll(async () => {
    client?.disconnect();
    await cluster?.stop();
  }, 60_000);
  expiryCases(() => ({ url: cluster.url, nodes: () => client.nodes('master') }));

  it("a record's index entry is in the record's slot", async () => {
    const prefix = `${uniquePrefix('expiry')}:`;
    const store = new RedisStore({ client, prefix });
    const T0 = 1_700_000_000;
    await fill(store, 's', 50, T0, T0 + 10);
    for (const node of client.nodes('master')) {
      for (const index of await node.keys(`${prefix}*:expiry`)) {
        const slot = await node.cluster('KEYSLOT', index);
        for (const member of await node.zrange(index, 0, -1)) {
          expect(await node.cluster('KEYSLOT', `${prefix}{${member}}`)).toBe(slot);
        }
      }
    }
    expect(await store.sweep(T0 + 20)).toBe(50);
    await store.close();
  });
});
