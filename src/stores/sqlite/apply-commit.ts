import { SessionLimitError } from '../../errors.js';
import {
  checkCaps,
  checkPreconditions,
  EMPTY_MEASURE,
  entryBytes,
  isLive,
  lastWritePerEntry,
  measureCommit,
  nextRecord,
  nextSeq,
  resolveIncrements,
} from '../record.js';
import type { CreateDelta, EntryWrite, SessionDelta } from '../types.js';
import type { SessionRow, Statements } from './schema.js';

/**
 * Applies one delta by the rules of `stores/record.ts`; runs inside an IMMEDIATE
 * transaction, so a throw rolls all of it back. Order: the preconditions
 * (`checkPreconditions`), the caps against the record as stored (`checkCaps`, from the
 * size kept in the session row and the entries written only), the limit, then the
 * writes, which all get the record's next commit number as their version. Returns the
 * evicted keys.
 */
export function applyCommit(sql: Statements, key: string, delta: SessionDelta, now: number): string[] {
  const row = sql.getSession.get(key);
  const live = row !== undefined && isLive(rowTimes(row), now) ? row : undefined;
  const folded = lastWritePerEntry(delta.writes);
  // One read per entry written: its version for the check, its bytes for the size.
  const stored = new Map<EntryWrite, { version: number; bytes: number } | undefined>();
  const storedOf = (w: EntryWrite) => {
    if (!stored.has(w)) stored.set(w, live ? sql.getEntry.get(key, w.pkg, w.key) : undefined);
    return stored.get(w);
  };
  const replaced = delta.replaces === undefined ? undefined : sql.getSession.get(delta.replaces);
  checkPreconditions(
    delta,
    folded,
    {
      current: row && rowTimes(row),
      versionOf: (w) => storedOf(w)?.version ?? 0,
      replaced: replaced && rowTimes(replaced),
      replacedEntries: () => sql.entryVersions.all(delta.replaces as string),
    },
    now,
  );
  const writes = resolveIncrements(folded, (w) =>
    live && !delta.clear ? sql.getValue.get(key, w.pkg, w.key) : undefined,
  );
  const before = live ? { bytes: live.bytes, packages: live.packages } : EMPTY_MEASURE;
  const measured = measureCommit(before, writes, delta.clear === true, {
    storedBytes: (w) => {
      const entry = storedOf(w);
      return entry && entry.bytes + entryBytes(w.pkg, w.key, '');
    },
    keysIn: (pkg) => (live ? (sql.countKeys.get(key, pkg) ?? 0) : 0),
  });
  checkCaps(delta.caps, before, measured);
  const seq = live ? live.seq : 0;
  const version = nextSeq(seq, delta);

  const evicted = delta.create && delta.limit ? makeRoom(sql, key, delta, now) : [];

  const times = nextRecord(live && rowTimes(live), delta, now);
  const { bytes, packages } = measured.measure;
  if (delta.create) {
    if (row !== undefined) sql.deleteEntries.run(key);
    else sql.addRecords.run(1);
    sql.insertSession.run(key, times.createdAt, times.lastAccess, times.expiresAt, version, bytes, packages);
  } else {
    if (delta.clear) sql.deleteEntries.run(key);
    sql.updateSession.run(times.lastAccess, times.expiresAt, version, bytes, packages, key);
  }
  for (const w of writes) {
    if (w.value === undefined) sql.deleteEntry.run(key, w.pkg, w.key);
    else sql.putEntry.run(key, w.pkg, w.key, w.value, version);
  }
  if (delta.replaces !== undefined) destroyRecord(sql, delta.replaces);
  return evicted;
}

/** A row's times as the rules module reads them. */
function rowTimes(row: SessionRow) {
  return { createdAt: row.created_at, lastAccess: row.last_access, expiresAt: row.expires_at };
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
function makeRoom(sql: Statements, key: string, delta: CreateDelta, now: number): string[] {
  const limit = delta.limit as NonNullable<CreateDelta['limit']>;
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
