export type { SqliteStoreOptions } from './options.js';
export { SqliteStore } from './sqlite-store.js';
