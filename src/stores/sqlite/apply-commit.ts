import { ConflictError, SessionLimitError } from '../../errors.js';
import { entryId, holdsExactly } from '../apply-delta.js';
import type { EntryWrite, SessionDelta } from '../types.js';
import type { SessionRow, Statements } from './schema.js';

/**
 * Applies one delta; runs inside an IMMEDIATE transaction, so a throw rolls all of
 * it back. Order: existence and expiry, the replaced record (live, and holding the
 * entries the regenerate loaded, `replacesEntries`), every version (all
 * conflicts named at once), the limit, then the writes, which all get the record's
 * `seq + 1` as their version (stored back as `seq`). Returns the evicted keys.
 */
export function applyCommit(sql: Statements, key: string, delta: SessionDelta, now: number): string[] {
  const row = sql.getSession.get(key);
  const live = row !== undefined && isLive(row, now);
  if (delta.create ? live : !live) throw new ConflictError(delta.create ? 'exists' : 'gone');
  if (delta.replaces !== undefined) {
    const replaced = sql.getSession.get(delta.replaces);
    if (replaced === undefined || !isLive(replaced, now)) throw new ConflictError('gone');
    // A write to the old record since the regenerate loaded it would be deleted with it.
    if (delta.replacesEntries && !holdsExactly(sql.entryVersions.all(delta.replaces), delta.replacesEntries)) {
      throw new ConflictError('version');
    }
  }

  const writes = lastWritePerEntry(delta.writes);
  // A record created over an expired one starts from nothing, versions and sequence included.
  const versionOf = (w: EntryWrite) => (live ? (sql.getVersion.get(key, w.pkg, w.key) ?? 0) : 0);
  const conflicts = writes
    .filter((w) => w.expectVersion !== undefined && versionOf(w) !== w.expectVersion)
    .map((w) => `${w.pkg} › ${w.key}`);
  if (conflicts.length > 0) throw new ConflictError('version', conflicts);
  // Every entry this commit sets gets the record's next commit number (StoredEntry.version).
  const seq = live ? (row as SessionRow).seq : 0;
  const version = writes.length > 0 ? seq + 1 : seq;

  const evicted = delta.create && delta.limit ? makeRoom(sql, key, delta, now) : [];

  if (delta.create) {
    const touch = delta.touch as NonNullable<SessionDelta['touch']>;
    if (row !== undefined) sql.deleteEntries.run(key);
    else sql.addRecords.run(1);
    sql.insertSession.run(key, now, touch.lastAccess, touch.expiresAt, version);
  } else {
    if (delta.clear) sql.deleteEntries.run(key);
    if (delta.touch) sql.touch.run({ key, lastAccess: delta.touch.lastAccess, expiresAt: delta.touch.expiresAt });
    if (version !== seq) sql.setSeq.run(version, key);
  }
  for (const w of writes) {
    if (w.value === undefined) sql.deleteEntry.run(key, w.pkg, w.key);
    else sql.putEntry.run(key, w.pkg, w.key, w.value, version);
  }
  if (delta.replaces !== undefined) destroyRecord(sql, delta.replaces);
  return evicted;
}

/** Deletes a record and its entries, keeping the record counter; true when there was one. */
export function destroyRecord(sql: Statements, key: string): boolean {
  sql.deleteEntries.run(key);
  const removed = sql.deleteSession.run(key).changes;
  if (removed > 0) sql.addRecords.run(-removed);
  return removed > 0;
}

/** Live records: all records (a counter) minus the expired ones (through the index, so it costs the expired only). */
export function liveCount(sql: Statements, now: number): number {
  return (sql.records.get() ?? 0) - (sql.countExpired.get(now) ?? 0);
}

/**
 * Enforces `delta.limit` for a creating commit. The record under `key` (expired, or
 * the create would have failed) is not live and so not counted; the one `replaces`
 * names is live but about to go, so it frees its place.
 */
function makeRoom(sql: Statements, key: string, delta: SessionDelta, now: number): string[] {
  const limit = delta.limit as NonNullable<SessionDelta['limit']>;
  const others = liveCount(sql, now) - (delta.replaces === undefined ? 0 : 1);
  const excess = others - limit.max + 1;
  if (excess <= 0) return [];
  if (limit.policy === 'reject') throw new SessionLimitError(limit.max);
  const spared = delta.replaces ?? key;
  const victims = sql.oldestLive.all(now, key, spared, excess);
  if (victims.length < excess) victims.push(...sql.oldestEternal.all(key, spared, excess - victims.length));
  for (const victim of victims) destroyRecord(sql, victim);
  return victims;
}

function isLive(row: SessionRow, now: number): boolean {
  return row.expires_at === null || now <= row.expires_at;
}

/** The writes with one per entry, the last winning, as applying them in order would leave it. */
function lastWritePerEntry(writes: readonly EntryWrite[]): EntryWrite[] {
  const byId = new Map<string, EntryWrite>();
  for (const w of writes) {
    const id = entryId(w.pkg, w.key);
    const first = byId.get(id);
    // The first write's expectation is the one checked against the stored version.
    const expectVersion = first?.expectVersion ?? w.expectVersion;
    byId.delete(id);
    byId.set(id, expectVersion === undefined ? { ...w } : { ...w, expectVersion });
  }
  return [...byId.values()];
}
