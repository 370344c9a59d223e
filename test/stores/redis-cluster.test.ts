import { Cluster } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { describeStoreContract } from '../../src/conformance/index.js';
import { ConflictError, StoreUnavailableError } from '../../src/index.js';
import { RedisStore } from '../../src/stores/redis/index.js';
import type { SessionDelta } from '../../src/stores/types.js';
import { deletePrefix, monitorCommands, type RedisCluster, startRedisCluster } from '../support/redis-cluster.js';
import { uniquePrefix } from '../support/services.js';

const T0 = 1_700_000_000;
const touch = { lastAccess: T0, expiresAt: T0 + 60 };

describe('RedisStore on a 3-master Redis Cluster started for the tests', () => {
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

  const clean = async (prefix: string) => {
    for (const node of client.nodes('master')) await deletePrefix(node, prefix);
  };

  describeStoreContract(
    'RedisStore (Cluster, the app client)',
    async () => {
      const prefix = `${uniquePrefix('rc')}:`;
      return { store: new RedisStore({ client, prefix }), cleanup: () => clean(prefix) };
    },
    { describe, it, beforeEach, afterEach },
    { capabilities: { limit: false, atomicRegenerate: false, perKeyVersions: true } },
  );

  describe('own cases', () => {
    let prefix: string;
    let store: RedisStore;
    beforeEach(() => {
      prefix = `${uniquePrefix('rc')}:`;
      store = new RedisStore({ client, prefix });
    });
    afterEach(async () => {
      await store.close();
      await clean(prefix);
    });

    it('connects from a redis+cluster:// url and quits its own client on close()', async () => {
      const own = new RedisStore({ url: cluster.url, prefix });
      await own.commit('k', { create: true, touch, writes: [{ pkg: 'p', key: 'a', value: '1' }] }, T0);
      expect((await store.load('k', T0))?.entries).toEqual([{ pkg: 'p', key: 'a', value: '1', version: 1 }]);
      expect(own.client.isCluster).toBe(true);
      await own.close();
      expect(own.client.status).toBe('end');
      expect(client.status).toBe('ready');
    });

    it("a session's hash is in its client key's slot (hash tag), and scan finds sessions on every master", async () => {
      const keys = Array.from({ length: 60 }, (_, i) => `c${i}`);
      for (const key of keys) await store.commit(key, { create: true, touch, writes: [] }, T0);
      expect(await client.cluster('KEYSLOT', `${prefix}{c7}`)).toBe(await client.cluster('KEYSLOT', 'c7'));
      const perNode = await Promise.all(client.nodes('master').map((n) => n.keys(`${prefix}*`)));
      expect(perNode.every((found) => found.length > 0)).toBe(true);
      const scanned: string[] = [];
      for await (const s of store.scan(T0)) scanned.push(s.key);
      expect(scanned.sort()).toEqual([...keys].sort());
    });

    it('regenerate across slots: creates the new record, then deletes the old one', async () => {
      const [oldKey, newKey] = await keysInDifferentSlots(client);
      await store.commit(oldKey, { create: true, touch, writes: [{ pkg: 'p', key: 'user', value: '"ann"' }] }, T0);
      const move: SessionDelta = {
        create: true,
        replaces: oldKey,
        touch,
        writes: [{ pkg: 'p', key: 'user', value: '"ann"' }],
      };
      await store.commit(newKey, move, T0 + 1);
      expect(await store.load(oldKey, T0 + 1)).toBeUndefined();
      expect((await store.load(newKey, T0 + 1))?.entries).toEqual([
        { pkg: 'p', key: 'user', value: '"ann"', version: 1 },
      ]);
      // The old one is gone now: a second regenerate of it fails and leaves no new record behind.
      await expect(store.commit('other', move, T0 + 2)).rejects.toMatchObject({ reason: 'gone' });
      expect(await client.exists(`${prefix}{other}`)).toBe(0);
    });

    it('two racing regenerates of one record across slots: exactly one wins, the loser leaves nothing', async () => {
      await store.commit('old', { create: true, touch, writes: [] }, T0);
      const results = await Promise.allSettled(
        ['n1', 'n2', 'n3', 'n4'].map((key) =>
          store.commit(key, { create: true, replaces: 'old', touch, writes: [] }, T0),
        ),
      );
      const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [`n${i + 1}`] : []));
      expect(won).toHaveLength(1);
      for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(ConflictError);
      const scanned: string[] = [];
      for await (const s of store.scan(T0)) scanned.push(s.key);
      expect(scanned).toEqual(won);
    });

    it('a load is one request (HGETALL) and a commit one request (EVALSHA), counted on every node', async () => {
      const monitors = await Promise.all(cluster.ports.map((port) => monitorCommands(`redis://127.0.0.1:${port}`)));
      try {
        const sent = async (task: () => Promise<unknown>) => {
          await Promise.all(monitors.map((m) => m.begin()));
          await task();
          const all = await Promise.all(monitors.map((m) => m.end()));
          return all.flat().filter((name) => name !== 'cluster');
        };
        await store.commit('warm', { create: true, touch, writes: [] }, T0); // loads the script on its node
        expect(await sent(() => store.load('warm', T0))).toEqual(['hgetall']);
        const writes = [{ pkg: 'p', key: 'a', value: '1' }];
        expect(await sent(() => store.commit('warm', { create: false, touch, writes }, T0 + 1))).toEqual(['evalsha']);
      } finally {
        for (const m of monitors) m.close();
      }
    });
  });
});

/** Two client keys whose hashes live in different slots, so one script could not touch both. */
async function keysInDifferentSlots(client: Cluster): Promise<[string, string]> {
  for (let i = 0; ; i++) {
    const [a, b] = [`old${i}`, `new${i}`];
    if ((await client.cluster('KEYSLOT', a)) !== (await client.cluster('KEYSLOT', b))) return [a, b];
  }
}

describe('RedisStore on a Cluster that does not answer', () => {
  it('fails with StoreUnavailableError within the timeout', async () => {
    const store = new RedisStore({ url: 'redis+cluster://127.0.0.1:1,127.0.0.1:2', commandTimeoutSeconds: 0.5 });
    try {
      const started = Date.now();
      for (const call of [store.load('k', T0), store.commit('k', { create: true, touch, writes: [] }, T0)]) {
        await expect(call).rejects.toBeInstanceOf(StoreUnavailableError);
      }
      await expect(store.scan(T0)[Symbol.asyncIterator]().next()).rejects.toBeInstanceOf(StoreUnavailableError);
      expect(Date.now() - started).toBeLessThan(3_000); // bounded: never hangs past the timeout
    } finally {
      await store.close();
    }
  });
});
