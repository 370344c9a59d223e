import { Redis } from 'ioredis';
import { afterAll, describe } from 'vitest';
import { RedisStore } from '../../src/stores/redis/index.js';
import { deletePrefix } from '../support/redis-cluster.js';
import { REDIS_URL, serviceAvailable, uniquePrefix } from '../support/services.js';
import { importCases } from './import-cases.js';

const available = await serviceAvailable('redis');

describe.skipIf(!available)('RedisStore bulk import (a batch of commits pipelined on the connection)', () => {
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
