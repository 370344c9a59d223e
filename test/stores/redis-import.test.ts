import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe } from 'vitest';
import { RedisStore } from '../../src/stores/redis/index.js';
import { deletePrefix, type RedisCluster, startRedisCluster } from '../support/redis-cluster.js';
import { REDIS_URL, serviceAvailable, uniquePrefix } from '../support/services.js';
import { importCases } from './import-cases.js';

const available = await serviceAvailable('redis');

describe.skipIf(!available)('RedisStore bulk import on the shared server (one pipeline per batch)', () => {
  const stores: { store: RedisStore; prefix: string }[] = [];
  afterAll(async () => {
    const admin = new Redis(REDIS_URL);
    for (const { store, prefix } of stores) {
      await store.close();
      await deletePrefix(admin, prefix);
    }
    admin.disconnect();
  });
  importCases(async () => {
    const prefix = `${uniquePrefix('rimport')}:`;
    const store = new RedisStore({ url: REDIS_URL, prefix });
    stores.push({ store, prefix });
    return store;
  });
});

describe('RedisStore bulk import on a 3-master Cluster (one pipeline per master)', () => {
  let cluster: RedisCluster;
  let client: Cluster;
  const stores: RedisStore[] = [];
  beforeAll(async () => {
    cluster = await startRedisCluster();
    client = new Cluster(cluster.ports.map((port) => ({ host: '127.0.0.1', port })));
    await client.ping();
  }, 120_000);
  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()));
    client?.disconnect();
    await cluster?.stop();
  }, 60_000);
  importCases(async () => {
    const store = new RedisStore({ client, prefix: `${uniquePrefix('rcimport')}:` });
    stores.push(store);
    return store;
  });
});
