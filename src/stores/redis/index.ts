export { type RedisStoreOptions, recommendedRedisOptions } from './options.js';
export { RedisStore } from './redis-store.js';
