/**
 * `tsession/postgres`: sessions in PostgreSQL, on `pg`.
 *
 * @module
 */
export { migrate, SCHEMA_VERSION } from './migrate.js';
export type { PostgresSchemaOptions, PostgresStoreOptions } from './options.js';
export { PostgresStore } from './postgres-store.js';
