import { RedisStore } from 'connect-redis';
import session from 'express-session';
import { createClient } from 'redis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, it } from 'vitest';
import { describeStoreContract } from '../../src/conformance/index.js';
import { ConnectStore } from '../../src/stores/connect/index.js';
import type { SessionStore } from '../../src/stores/types.js';
import { REDIS_URL, serviceAvailable, uniquePrefix } from '../support/services.js';

const t = { describe, it, beforeEach, afterEach };
/** What a whole-blob store over a callback API can promise (see ConnectStore's TSDoc). */
const capabilities = { limit: false, atomicRegenerate: false, perKeyVersions: false, principals: false };

describeStoreContract(
  'ConnectStore over express-session MemoryStore',
  async () => ({ store: new ConnectStore({ store: new session.MemoryStore() }) }),
  t,
  { capabilities },
);

/**
 * Within ONE process ConnectStore serializes commits per key, so there it keeps every
 * promise of the full contract: versions, same-key conflicts, different-key merges and
 * regenerate. This view claims the full capabilities to run those cases too; across
 * processes they do not hold (see ConnectStore's TSDoc), which is why the store itself
 * declares them false.
 */
function inProcessView(store: ConnectStore): SessionStore {
  return {
    capabilities: { ...store.capabilities, atomicRegenerate: true, perKeyVersions: true },
    load: (key, now) => store.load(key, now),
    commit: (key, delta, now) => store.commit(key, delta, now),
    destroy: (key) => store.destroy(key),
    sweep: (now, options) => store.sweep(now, options),
    scan: (now) => store.scan(now),
    close: () => store.close(),
  };
}

describeStoreContract(
  'ConnectStore over express-session MemoryStore, within one process',
  async () => ({ store: inProcessView(new ConnectStore({ store: new session.MemoryStore() })) }),
  t,
  { capabilities: { limit: false, principals: false } },
);

const redisAvailable = await serviceAvailable('redis');
const client = createClient({ url: REDIS_URL });
const RUN = uniquePrefix('connect');
let fixtures = 0;

/** Deletes every key under `prefix`. */
async function deletePrefix(prefix: string): Promise<void> {
  const keys: string[] = [];
  for await (const batch of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) keys.push(...batch);
  for (let i = 0; i < keys.length; i += 500) await client.del(keys.slice(i, i + 500));
}

describe.skipIf(!redisAvailable)('over connect-redis', () => {
  beforeAll(async () => {
    await client.connect();
  });
  afterAll(async () => {
    await deletePrefix(RUN);
    client.destroy();
  });

  describeStoreContract(
    'ConnectStore over connect-redis',
    async () => {
      const prefix = `${RUN}:${++fixtures}:`;
      return {
        store: new ConnectStore({ store: new RedisStore({ client, prefix }) }),
        cleanup: () => deletePrefix(prefix),
      };
    },
    t,
    { capabilities },
  );

  describeStoreContract(
    'ConnectStore over connect-redis, within one process',
    async () => {
      const prefix = `${RUN}:${++fixtures}:`;
      return {
        store: inProcessView(new ConnectStore({ store: new RedisStore({ client, prefix }) })),
        cleanup: () => deletePrefix(prefix),
      };
    },
    t,
    { capabilities: { limit: false, principals: false } },
  );
});
