import type { Pool } from 'pg';
import { INTERNAL_PACKAGE, PRINCIPAL_KEY } from '../record.js';
import { commitFunctionSql } from './commit-function.js';
import { type PostgresSchemaOptions, resolveNames } from './options.js';

/**
 * The version of the schema this code creates and reads, kept in the `<table>_meta` table.
 * Version 1 is the first released shape (nothing before it was published, so there is no
 * upgrade path). Any later change of a stored shape (tables or the commit function) bumps
 * it, with its upgrade in {@link migrate}; a schema of a newer version is refused.
 */
export const SCHEMA_VERSION = 1;

/**
 * Creates (or brings up to date) the tables, index and commit function a
 * {@link PostgresStore} uses: `<table>_sessions` (one row per client, with an indexed
 * expiry and its commit sequence), `<table>_entries` (one row per client, package and key, with a version,
 * removed with their session), `<table>_meta` (the schema version) and the
 * `<table>_commit` function. Idempotent, and safe to run from several processes at
 * once: it runs as one transaction under an advisory lock. Refuses to touch a schema
 * that a newer tsession created.
 *
 * @example
 * ```ts
 * import { migrate } from 'tsession/postgres';
 * await migrate(pool, { schema: 'app', table: 'sessions' });
 * ```
 */
export async function migrate(pool: Pick<Pool, 'query'>, options: PostgresSchemaOptions = {}): Promise<void> {
  const n = resolveNames('migrate', options);
  // One simple-protocol query: its statements run as one implicit transaction.
  await pool.query(`
SELECT pg_advisory_xact_lock(${n.migrateLockId});
CREATE SCHEMA IF NOT EXISTS ${n.schema};
CREATE TABLE IF NOT EXISTS ${n.meta} (name text PRIMARY KEY, value text NOT NULL);
DO $check$ BEGIN
  IF EXISTS (SELECT 1 FROM ${n.meta} WHERE name = 'schema_version' AND value::integer > ${SCHEMA_VERSION}) THEN
    RAISE EXCEPTION 'tsession: the schema in ${n.meta.replaceAll("'", "''")} is newer than version ${SCHEMA_VERSION}; upgrade tsession';
  END IF;
END $check$;
CREATE TABLE IF NOT EXISTS ${n.sessions} (
  key text PRIMARY KEY,
  created_at double precision NOT NULL,
  last_access double precision NOT NULL,
  expires_at double precision NULL,
  seq integer NOT NULL DEFAULT 0,
  bytes bigint NOT NULL DEFAULT 0,
  packages integer NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS ${n.expiresIndex} ON ${n.sessions} (expires_at);
CREATE TABLE IF NOT EXISTS ${n.entries} (
  key text NOT NULL REFERENCES ${n.sessions} (key) ON DELETE CASCADE,
  pkg text NOT NULL,
  name text NOT NULL,
  value text NOT NULL,
  version integer NOT NULL,
  PRIMARY KEY (key, pkg, name)
);
-- Sessions by user: a partial index of the principal entries only, so it follows them
-- through every write and delete (and the cascade), and costs nothing for other entries.
-- An index, not a stored shape: schema 1 tables get it here, as they are.
CREATE INDEX IF NOT EXISTS ${n.principalIndex} ON ${n.entries} (value)
  WHERE pkg = '${INTERNAL_PACKAGE}' AND name = '${PRINCIPAL_KEY}';
${commitFunctionSql(n)};
INSERT INTO ${n.meta} (name, value) VALUES ('schema_version', '${SCHEMA_VERSION}')
  ON CONFLICT (name) DO UPDATE SET value = excluded.value;
`);
}
