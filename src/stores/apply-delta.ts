import { ConflictError } from '../errors.js';
import type { SessionDelta, StoredEntry } from './types.js';

/**
 * Applies a delta's entry writes to a record's entries, for stores that hold whole
 * records in process (memory) or rebuild them (tests): checks every `expectVersion`
 * first, then returns the new entries. Throws `ConflictError('version')` naming every
 * entry that moved, having changed nothing.
 */
export function applyEntryWrites(
  current: readonly StoredEntry[],
  delta: Pick<SessionDelta, 'clear' | 'writes'>,
): StoredEntry[] {
  const byId = new Map(current.map((e) => [entryId(e.pkg, e.key), e]));
  const conflicts = delta.writes
    .filter((w) => w.expectVersion !== undefined && (byId.get(entryId(w.pkg, w.key))?.version ?? 0) !== w.expectVersion)
    .map((w) => `${w.pkg} › ${w.key}`);
  if (conflicts.length > 0) throw new ConflictError('version', conflicts);

  const next = delta.clear ? new Map<string, StoredEntry>() : byId;
  for (const w of delta.writes) {
    const id = entryId(w.pkg, w.key);
    if (w.value === undefined) {
      next.delete(id);
    } else {
      const version = (byId.get(id)?.version ?? 0) + 1;
      next.set(id, { pkg: w.pkg, key: w.key, value: w.value, version });
    }
  }
  return [...next.values()];
}

/** One string naming a (package id, key) pair; `\0` cannot occur in either. */
export function entryId(pkg: string, key: string): string {
  return `${pkg}\0${key}`;
}
