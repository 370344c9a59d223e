import { lastWritePerEntry } from '../record.js';
import type { SessionDelta, StoredEntry, StoredSession } from '../types.js';

/** A `<table>_sessions` row as pg returns it. */
export interface SessionRow {
  created_at: number;
  last_access: number;
  expires_at: number | null;
}

/** A `<table>_entries` row as pg returns it. */
export interface EntryRow {
  pkg: string;
  name: string;
  value: string;
  version: number;
}

/** Builds a record from the rows of the load query (the session joined to its entries), or undefined for none. */
export function sessionFromRows(rows: readonly (SessionRow & Partial<EntryRow>)[]): StoredSession | undefined {
  const first = rows[0];
  if (first === undefined) return undefined;
  const entries: StoredEntry[] = [];
  for (const row of rows) {
    if (row.pkg != null && row.name != null && row.value != null && row.version != null) {
      entries.push({ pkg: row.pkg, key: row.name, value: row.value, version: row.version });
    }
  }
  return { createdAt: first.created_at, lastAccess: first.last_access, expiresAt: first.expires_at, entries };
}

/**
 * The delta as the commit function reads it. Writes to one entry are folded into the
 * last one (`lastWritePerEntry`), keeping the first `expectVersion`.
 */
export function encodeDelta(delta: SessionDelta): string {
  const writes = lastWritePerEntry(delta.writes).map((w) => ({
    pkg: w.pkg,
    name: w.key,
    value: w.value ?? null,
    expect: w.expectVersion ?? null,
    ...(w.add !== undefined && { add: w.add }),
  }));
  return JSON.stringify({
    create: delta.create,
    clear: delta.clear === true,
    writes,
    ...(delta.touch && { touch: delta.touch }),
    ...(delta.replaces !== undefined && { replaces: delta.replaces }),
    ...(delta.replacesEntries && {
      replacesEntries: delta.replacesEntries.map((e) => ({ pkg: e.pkg, name: e.key, version: e.version })),
    }),
    ...(delta.limit && { limit: delta.limit }),
    ...(delta.createdAt !== undefined && { createdAt: delta.createdAt }),
    ...(delta.caps && { caps: delta.caps }),
  });
}
