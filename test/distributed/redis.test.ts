import { Redis } from 'ioredis';
import { describe } from 'vitest';
import { REDIS_URL, serviceAvailable, uniquePrefix } from '../support/services.js';
import { twoProcessCases } from './cases.js';

const available = await serviceAvailable('redis');

describe.skipIf(!available)('two app processes over one Redis (RedisStore)', () => {
  twoProcessCases(async () => {
    const prefix = `${uniquePrefix('dist')}:`;
    return {
      env: { TSESSION_DIST_STORE: 'redis', TSESSION_DIST_URL: REDIS_URL, TSESSION_DIST_NAMESPACE: prefix },
      async cleanup() {
        const redis = new Redis(REDIS_URL);
        const keys: string[] = [];
        for await (const batch of redis.scanStream({ match: `${prefix}*`, count: 500 })) keys.push(...batch);
        if (keys.length > 0) await redis.del(...keys);
        await redis.quit();
      },
    };
  });
});
