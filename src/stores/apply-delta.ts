import { ConflictError } from '../errors.js';
import type { ReplacedEntry, SessionDelta, StoredEntry } from './types.js';

/** What {@link applyEntryWrites} returns: the record's new entries and its new commit sequence. */
export interface AppliedWrites {
  /** Every entry of the record after the delta. */
  readonly entries: StoredEntry[];
  /** The record's commit sequence after the delta: keep it with the record for its next commit. */
  readonly seq: number;
}

/**
 * Applies a delta's entry writes to a record's entries, for stores that hold whole
 * records in process (memory) or rebuild them (a blob store): checks every
 * `expectVersion` first, then returns the new entries and sequence. Throws
 * `ConflictError('version')` naming every entry that moved, having changed nothing.
 *
 * Versions come from the record's commit sequence `seq` (0 for a new record; see
 * {@link StoredEntry.version}): a delta with at least one write takes `seq + 1`, gives
 * it to every entry it sets, and returns it as the new `seq`. The caller must store that `seq` with the record, or a key deleted and written
 * again could get back a version a concurrent request already read.
 *
 * @param current the record's entries before the delta (none for a new record).
 * @param delta the writes, and whether to clear first.
 * @param seq the record's commit sequence before the delta (0 for a new record).
 *
 * @example
 * ```ts
 * const { entries, seq } = applyEntryWrites(record.entries, delta, record.seq);
 * save(key, { ...record, entries, seq });
 * ```
 */
export function applyEntryWrites(
  current: readonly StoredEntry[],
  delta: Pick<SessionDelta, 'clear' | 'writes'>,
  seq: number,
): AppliedWrites {
  const byId = new Map(current.map((e) => [entryId(e.pkg, e.key), e]));
  const checked = new Set<string>();
  const conflicts: string[] = [];
  for (const w of delta.writes) {
    const id = entryId(w.pkg, w.key);
    // Only the first write of an entry is checked: later ones in the same delta follow it.
    if (checked.has(id)) continue;
    checked.add(id);
    if (w.expectVersion !== undefined && (byId.get(id)?.version ?? 0) !== w.expectVersion) {
      conflicts.push(`${w.pkg} › ${w.key}`);
    }
  }
  if (conflicts.length > 0) throw new ConflictError('version', conflicts);

  const version = delta.writes.length > 0 ? seq + 1 : seq;
  const next = delta.clear ? new Map<string, StoredEntry>() : new Map(byId);
  for (const w of delta.writes) {
    const id = entryId(w.pkg, w.key);
    if (w.value === undefined) next.delete(id);
    else next.set(id, { pkg: w.pkg, key: w.key, value: w.value, version });
  }
  return { entries: [...next.values()], seq: version };
}

/**
 * True when `stored` (the replaced record's entries now) are exactly `expected` (as a
 * regenerate loaded them, {@link SessionDelta.replacesEntries}): the same (package id,
 * key) pairs at the same versions, none more, none fewer. Absent `expected` always
 * matches. A store that finds no match throws `ConflictError('version')` and writes nothing.
 */
export function holdsExactly(
  stored: readonly Pick<StoredEntry, 'pkg' | 'key' | 'version'>[],
  expected: readonly ReplacedEntry[] | undefined,
): boolean {
  if (expected === undefined) return true;
  const versions = new Map(expected.map((e) => [entryId(e.pkg, e.key), e.version]));
  if (versions.size !== stored.length) return false;
  return stored.every((e) => versions.get(entryId(e.pkg, e.key)) === e.version);
}

/**
 * The highest version among a record's entries: the best estimate of its commit
 * sequence for a record stored without one (written before sequences existed).
 */
export function highestVersion(entries: readonly StoredEntry[]): number {
  let highest = 0;
  for (const e of entries) if (e.version > highest) highest = e.version;
  return highest;
}

/** One string naming a (package id, key) pair; `\0` cannot occur in either. */
export function entryId(pkg: string, key: string): string {
  return `${pkg}\0${key}`;
}
