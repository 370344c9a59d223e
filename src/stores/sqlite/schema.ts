import type Database from 'better-sqlite3';
import { SessionConfigError } from '../../errors.js';
import { INTERNAL_PACKAGE, PRINCIPAL_KEY } from '../record.js';

/**
 * The format of the tables this code writes; stored in `<table>_meta` under `schema`.
 * Version 1 is the first released shape (nothing before it was published, so there is
 * no upgrade path). Any later change of a stored shape bumps it, with an upgrade in
 * {@link migrate}; tables of a newer version are refused.
 */
export const SCHEMA_VERSION = 1;

/** A session row as the statements return it. */
export interface SessionRow {
  key: string;
  created_at: number;
  last_access: number;
  expires_at: number | null;
  /** The record's commit sequence: the number of its last commit with entry writes. */
  seq: number;
  /** The record's size in UTF-8 bytes (`RecordMeasure.bytes`), kept by every commit. */
  bytes: number;
  /** Packages holding keys, the internal one not counted (`RecordMeasure.packages`). */
  packages: number;
}

/** An entry row as the statements return it. */
export interface EntryRow {
  key: string;
  pkg: string;
  name: string;
  value: string;
  version: number;
}

/** The three table names of one store, quoted for SQL. */
export function tableNames(prefix: string) {
  return {
    sessions: `"${prefix}_sessions"`,
    entries: `"${prefix}_entries"`,
    meta: `"${prefix}_meta"`,
    expiresIndex: `"${prefix}_sessions_expires"`,
    principalIndex: `"${prefix}_entries_principal"`,
  };
}

/**
 * Creates the tables if missing (idempotent, safe when several processes start at
 * once) and refreshes the live-record counter, in one IMMEDIATE transaction.
 * @throws SessionConfigError when the tables were written by a newer tsession.
 */
export function migrate(db: Database.Database, prefix: string): void {
  const t = tableNames(prefix);
  db.transaction(() => {
    db.exec(`
      CREATE TABLE IF NOT EXISTS ${t.meta} (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS ${t.sessions} (
        key TEXT PRIMARY KEY,
        created_at REAL NOT NULL,
        last_access REAL NOT NULL,
        expires_at REAL,
        seq INTEGER NOT NULL DEFAULT 0,
        bytes INTEGER NOT NULL DEFAULT 0,
        packages INTEGER NOT NULL DEFAULT 0
      ) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS ${t.expiresIndex} ON ${t.sessions} (expires_at);
      CREATE TABLE IF NOT EXISTS ${t.entries} (
        key TEXT NOT NULL,
        pkg TEXT NOT NULL,
        name TEXT NOT NULL,
        value TEXT NOT NULL,
        version INTEGER NOT NULL,
        PRIMARY KEY (key, pkg, name)
      ) WITHOUT ROWID;
      -- Sessions by user: a partial index holding only the principal entries, so it follows
      -- them through every write and delete, and costs nothing for sessions without one.
      -- An index, not a stored shape: tables of schema 1 get it here, as they are.
      CREATE INDEX IF NOT EXISTS ${t.principalIndex} ON ${t.entries} (value)
        WHERE pkg = '${INTERNAL_PACKAGE}' AND name = '${PRINCIPAL_KEY}';
    `);
    const stored = db.prepare(`SELECT value FROM ${t.meta} WHERE name = 'schema'`).pluck().get() as number | undefined;
    if (stored !== undefined && stored > SCHEMA_VERSION) {
      throw new SessionConfigError(
        `SqliteStore: the tables "${prefix}_*" have schema version ${stored}, newer than this tsession's ${SCHEMA_VERSION}; upgrade tsession or use another \`table\``,
      );
    }
    db.prepare(`INSERT OR REPLACE INTO ${t.meta} (name, value) VALUES ('schema', ?)`).run(SCHEMA_VERSION);
    // The counter of records (live or not yet swept) is recounted once here, so a file
    // edited by hand heals; commits keep it current, and `count` subtracts the expired.
    db.prepare(
      `INSERT OR REPLACE INTO ${t.meta} (name, value) VALUES ('records', (SELECT count(*) FROM ${t.sessions}))`,
    ).run();
  }).immediate();
}

/** @internal Every statement the store runs, prepared once. */
export function prepareStatements(db: Database.Database, prefix: string) {
  const t = tableNames(prefix);
  const live = '(expires_at IS NULL OR expires_at >= @now)';
  return {
    /** The live record and its entries in one query (one snapshot); no rows when there is none. */
    load: db.prepare<{ key: string; now: number }, SessionRow & Partial<Omit<EntryRow, 'key'>>>(
      `SELECT s.key, s.created_at, s.last_access, s.expires_at, e.pkg, e.name, e.value, e.version
       FROM ${t.sessions} s LEFT JOIN ${t.entries} e ON e.key = s.key
       WHERE s.key = @key AND (s.expires_at IS NULL OR s.expires_at >= @now)`,
    ),
    getSession: db.prepare<[string], SessionRow>(`SELECT * FROM ${t.sessions} WHERE key = ?`),
    /** An entry's version, and the UTF-8 bytes of its value (the database encoding is UTF-8). */
    getEntry: db.prepare<[string, string, string], { version: number; bytes: number }>(
      `SELECT version, length(CAST(value AS BLOB)) AS bytes FROM ${t.entries} WHERE key = ? AND pkg = ? AND name = ?`,
    ),
    /** An entry's stored encoding: what an increment adds to (`resolveIncrements`). */
    getValue: db
      .prepare<[string, string, string], string>(
        `SELECT value FROM ${t.entries} WHERE key = ? AND pkg = ? AND name = ?`,
      )
      .pluck(),
    /**
     * The live records of one principal, through the partial index on the principal entry
     * (so the cost is that principal's records), with their times.
     */
    byPrincipal: db.prepare<[string, number], SessionRow>(
      `SELECT s.* FROM ${t.entries} e JOIN ${t.sessions} s ON s.key = e.key
       WHERE e.pkg = '${INTERNAL_PACKAGE}' AND e.name = '${PRINCIPAL_KEY}' AND e.value = ?
         AND (s.expires_at IS NULL OR s.expires_at >= ?)`,
    ),
    /** One record's entries. */
    entriesOf: db.prepare<[string], EntryRow>(`SELECT * FROM ${t.entries} WHERE key = ?`),
    /** The keys a record holds in one package: an index range of the primary key. */
    countKeys: db
      .prepare<[string, string], number>(`SELECT count(*) FROM ${t.entries} WHERE key = ? AND pkg = ?`)
      .pluck(),
    /** A record's entries as (pkg, key, version): what `replacesEntries` is checked against. */
    entryVersions: db.prepare<[string], { pkg: string; key: string; version: number }>(
      `SELECT e.pkg, e.name AS key, e.version FROM ${t.entries} e WHERE e.key = ?`,
    ),
    insertSession: db.prepare<[string, number, number, number | null, number, number, number]>(
      `INSERT OR REPLACE INTO ${t.sessions} (key, created_at, last_access, expires_at, seq, bytes, packages)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ),
    /** Writes a record's times (from `nextRecord`), commit sequence and size. */
    updateSession: db.prepare<[number, number | null, number, number, number, string]>(
      `UPDATE ${t.sessions} SET last_access = ?, expires_at = ?, seq = ?, bytes = ?, packages = ? WHERE key = ?`,
    ),
    deleteSession: db.prepare<[string]>(`DELETE FROM ${t.sessions} WHERE key = ?`),
    deleteEntries: db.prepare<[string]>(`DELETE FROM ${t.entries} WHERE key = ?`),
    deleteEntry: db.prepare<[string, string, string]>(
      `DELETE FROM ${t.entries} WHERE key = ? AND pkg = ? AND name = ?`,
    ),
    putEntry: db.prepare<[string, string, string, string, number]>(
      `INSERT OR REPLACE INTO ${t.entries} (key, pkg, name, value, version) VALUES (?, ?, ?, ?, ?)`,
    ),
    /** Keys of expired records, soonest first, through the expires_at index. */
    expiredKeys: db
      .prepare<[number, number], string>(
        `SELECT key FROM ${t.sessions} WHERE expires_at < ? ORDER BY expires_at LIMIT ?`,
      )
      .pluck(),
    countExpired: db.prepare<[number], number>(`SELECT count(*) FROM ${t.sessions} WHERE expires_at < ?`).pluck(),
    /** The least recently used live records with an expiry, through the expires_at index. */
    oldestLive: db
      .prepare<[number, string, string, number], string>(
        `SELECT key FROM ${t.sessions} WHERE expires_at >= ? AND key NOT IN (?, ?) ORDER BY expires_at, key LIMIT ?`,
      )
      .pluck(),
    /** Records that never expire, least recently accessed first: evicted only when no others are left. */
    oldestEternal: db
      .prepare<[string, string, number], string>(
        `SELECT key FROM ${t.sessions} WHERE expires_at IS NULL AND key NOT IN (?, ?) ORDER BY last_access, key LIMIT ?`,
      )
      .pluck(),
    records: db.prepare<[], number>(`SELECT value FROM ${t.meta} WHERE name = 'records'`).pluck(),
    addRecords: db.prepare<[number]>(`UPDATE ${t.meta} SET value = value + ? WHERE name = 'records'`),
    scanFirst: db.prepare<{ now: number; limit: number }, SessionRow>(
      `SELECT * FROM ${t.sessions} WHERE ${live} ORDER BY key LIMIT @limit`,
    ),
    scanAfter: db.prepare<{ after: string; now: number; limit: number }, SessionRow>(
      `SELECT * FROM ${t.sessions} WHERE key > @after AND ${live} ORDER BY key LIMIT @limit`,
    ),
    scanEntries: db.prepare<[string, string], EntryRow>(
      `SELECT * FROM ${t.entries} WHERE key >= ? AND key <= ? ORDER BY key`,
    ),
  };
}

/** The prepared statements of one store. */
export type Statements = ReturnType<typeof prepareStatements>;
