import { Redis } from 'ioredis';
import { describe } from 'vitest';
import { REDIS_URL, serviceAvailable, uniquePrefix } from '../support/services.js';
import { twoProcessCases } from './cases.js';

const available = await serviceAvailable('redis');

/**
 * ConnectStore over connect-redis needs no affinity for a client's sequential
 * requests, but without compare-and-set in the underlying store it cannot merge or
 * detect concurrent commits of different processes: those cases only count losses.
 */
describe.skipIf(!available)('two app processes over one Redis (ConnectStore over connect-redis)', () => {
  twoProcessCases(
    async () => {
      const prefix = `${uniquePrefix('dist_connect')}:`;
      return {
        env: { TSESSION_DIST_STORE: 'connect-redis', TSESSION_DIST_URL: REDIS_URL, TSESSION_DIST_NAMESPACE: prefix },
        async cleanup() {
          const redis = new Redis(REDIS_URL);
          const keys: string[] = [];
          for await (const batch of redis.scanStream({ match: `${prefix}*`, count: 500 })) keys.push(...batch);
          if (keys.length > 0) await redis.del(...keys);
          await redis.quit();
        },
      };
    },
    { crossProcessSafe: false },
  );
});
