import { entryId } from '../apply-delta.js';
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
 * last one (as applying them in order would), keeping the first `expectVersion`.
 */
export function encodeDelta(delta: SessionDelta): string {
  const writes = new Map<string, { pkg: string; name: string; value: string | null; expect: number | null }>();
  for (const w of delta.writes) {
    const id = entryId(w.pkg, w.key);
    const expect = writes.get(id)?.expect ?? w.expectVersion ?? null;
    writes.set(id, { pkg: w.pkg, name: w.key, value: w.value ?? null, expect });
  }
  return JSON.stringify({
    create: delta.create,
    clear: delta.clear === true,
    writes: [...writes.values()],
    ...(delta.touch && { touch: delta.touch }),
    ...(delta.replaces !== undefined && { replaces: delta.replaces }),
    ...(delta.replacesEntries && {
      replacesEntries: delta.replacesEntries.map((e) => ({ pkg: e.pkg, name: e.key, version: e.version })),
    }),
    ...(delta.limit && { limit: delta.limit }),
  });
}
