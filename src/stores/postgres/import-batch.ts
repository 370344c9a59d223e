import type { Pool } from 'pg';
import { lastWritePerEntry, measureEntries, nextSeq } from '../record.js';
import type { ImportBatchOptions, ImportedRecord } from '../types.js';
import type { PostgresNames } from './options.js';

/**
 * Writes a batch of imported records in one transaction of three statements, whatever the
 * batch size: delete what the records replace (an expired record under the key, or any
 * with `replace`), insert the session rows (`ON CONFLICT DO NOTHING` keeps a live one),
 * insert the entries of the rows inserted. The rows are what a creating commit of the
 * same record would leave: `seq` and every entry's version from `nextSeq`, `bytes` and
 * `packages` from `measureEntries`, the entries folded by `lastWritePerEntry`. The data
 * travels as two JSON parameters, so a batch is three round trips plus BEGIN/COMMIT.
 * Resolves, per record in order, whether it was written.
 */
export async function importRecords(
  pool: Pool,
  names: PostgresNames,
  records: readonly ImportedRecord[],
  now: number,
  options: ImportBatchOptions & { lockTimeoutMs: number },
): Promise<boolean[]> {
  const rows = records.map((r) => {
    const entries = lastWritePerEntry(r.entries.map(({ pkg, key, value }) => ({ pkg, key, value })));
    const { measure } = measureEntries(entries as { pkg: string; key: string; value: string }[]);
    return { r, entries, seq: nextSeq(0, { writes: entries }), measure };
  });
  const sessions = rows.map(({ r, seq, measure }) => ({
    key: r.key,
    created_at: r.createdAt,
    last_access: r.lastAccess,
    expires_at: r.expiresAt,
    seq,
    bytes: measure.bytes,
    packages: measure.packages,
  }));
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    await client.query(`SELECT set_config('lock_timeout', $1, true)`, [`${options.lockTimeoutMs}ms`]);
    await client.query(
      `DELETE FROM ${names.sessions} s USING jsonb_array_elements_text($1::jsonb) AS k(key)
        WHERE s.key = k.key AND ($3 OR s.expires_at < $2)`,
      [JSON.stringify(sessions.map((s) => s.key)), now, options.replace],
    );
    const { rows: inserted } = await client.query<{ key: string }>(
      `INSERT INTO ${names.sessions} (key, created_at, last_access, expires_at, seq, bytes, packages)
       SELECT key, created_at, last_access, expires_at, seq, bytes, packages
         FROM jsonb_to_recordset($1::jsonb) AS r(key text, created_at double precision, last_access double precision,
              expires_at double precision, seq integer, bytes bigint, packages integer)
       ON CONFLICT (key) DO NOTHING RETURNING key`,
      [JSON.stringify(sessions)],
    );
    const written = new Set(inserted.map((row) => row.key));
    const entries = rows
      .filter(({ r }) => written.has(r.key))
      .flatMap(({ r, entries, seq }) =>
        entries.map((e) => ({ key: r.key, pkg: e.pkg, name: e.key, value: e.value, version: seq })),
      );
    if (entries.length > 0) {
      await client.query(
        `INSERT INTO ${names.entries} (key, pkg, name, value, version)
         SELECT key, pkg, name, value, version
           FROM jsonb_to_recordset($1::jsonb) AS e(key text, pkg text, name text, value text, version integer)`,
        [JSON.stringify(entries)],
      );
    }
    await client.query('COMMIT');
    return records.map((r) => written.has(r.key));
  } catch (error) {
    // A connection whose ROLLBACK fails is not given back to the pool.
    await client.query('ROLLBACK').catch((rollback: Error) => (broken = rollback));
    throw error;
  } finally {
    client.release(broken);
  }
}
