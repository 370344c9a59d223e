import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INTERNAL_PACKAGE, PRINCIPAL_KEY } from '../../src/stores/record.js';
import { RedisStore } from '../../src/stores/redis/index.js';
import { principalSetKey } from '../../src/stores/redis/layout.js';
import { deletePrefix } from '../support/redis-cluster.js';
import { REDIS_URL, serviceAvailable, uniquePrefix } from '../support/services.js';

const available = await serviceAvailable('redis');
const T0 = 1_700_000_000;
const ANN = JSON.stringify('ann');
const principal = { pkg: INTERNAL_PACKAGE, key: PRINCIPAL_KEY, value: ANN };
const touch = { lastAccess: T0, expiresAt: T0 + 3600 };

describe.skipIf(!available)("RedisStore's principal index", () => {
  const prefix = `${uniquePrefix('redis-principals')}:`;
  let admin: Redis;
  let store: RedisStore;
  beforeAll(() => {
    admin = new Redis(REDIS_URL);
    store = new RedisStore({ url: REDIS_URL, prefix });
  });
  afterAll(async () => {
    await store.close();
    await deletePrefix(admin, prefix);
    admin.disconnect();
  });

  it('adds a record to the index before its commit, and lives at least as long as the record', async () => {
    await store.commit('k1', { create: true, touch, writes: [principal] }, T0);
    const setKey = principalSetKey(prefix, ANN);
    expect(await admin.zrange(setKey, 0, -1)).toEqual(['k1']);
    // The record lives 3600 s from this commit; the index at least as long (the TTL grace included).
    expect(await admin.pttl(setKey)).toBeGreaterThan(3_600_000);
  });

  it('a member whose record does not hold the principal yet (a commit in flight) stays until the grace is over', async () => {
    await store.commit('k2', { create: true, touch, writes: [] }, T0);
    const setKey = principalSetKey(prefix, ANN);
    // What a commit writing the principal does first: index the record, then commit.
    await admin.zadd(setKey, T0, 'k2');
    expect((await store.findByPrincipal(ANN, T0)).map((r) => r.key)).toEqual(['k1']);
    expect(await admin.zscore(setKey, 'k2')).not.toBeNull();
    await store.commit('k2', { create: false, writes: [principal] }, T0);
    expect((await store.findByPrincipal(ANN, T0)).map((r) => r.key).sort()).toEqual(['k1', 'k2']);
    await store.destroy('k1');
    expect((await store.findByPrincipal(ANN, T0 + 10)).map((r) => r.key)).toEqual(['k2']);
    expect(await admin.zscore(setKey, 'k1')).not.toBeNull();
    expect((await store.findByPrincipal(ANN, T0 + 301)).map((r) => r.key)).toEqual(['k2']);
    expect(await admin.zrange(setKey, 0, -1)).toEqual(['k2']);
  });
});
