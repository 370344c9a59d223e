/**
 * Conflict resolution at commit (Zope's `_p_resolveConflict`): when a commit fails with
 * `ConflictError('version')` only on keys that have a resolver in their container, the
 * record is read again, each conflicting key merged from the value stored now, the value
 * this request read and the value it wrote, and the delta committed again with the merged
 * values, checked against the versions just read. The handler never runs again.
 *
 * @module
 */
import type { SessionDataContainer } from '../container/container.js';
import { ConflictError } from '../errors.js';
import { entryId } from '../stores/record.js';
import type { EntryWrite, SessionDelta, StoredEntry, StoredSession } from '../stores/types.js';

/**
 * Merge rounds before giving up. A round fails only when another commit won the race in
 * between, so n requests racing on one key need at most n rounds; each round is a load
 * and a commit, never a handler run.
 */
const MAX_ROUNDS = 100;

/**
 * Commits `delta` to `container` under `key`, merging a version conflict through the
 * container's resolvers when it can (see the module doc). `loaded` is the record as this
 * request loaded it: what it read. Throws the last `ConflictError` when a conflicting key
 * has no resolver, a resolver throws, or the record keeps moving for {@link MAX_ROUNDS}.
 */
export async function commitResolving(
  container: SessionDataContainer,
  key: string,
  delta: SessionDelta,
  loaded: StoredSession | undefined,
): Promise<void> {
  let attempt = delta;
  let base = loaded?.entries ?? [];
  for (let round = 0; ; round++) {
    try {
      await container.commit(key, attempt);
      return;
    } catch (error) {
      if (!isMergeable(error, attempt, container) || round === MAX_ROUNDS) throw error;
      const fresh = await container.load(key);
      if (fresh === undefined) throw new ConflictError('gone');
      const merged = mergeWrites(container, attempt, base, fresh.entries);
      if (merged === undefined) throw error;
      attempt = { ...attempt, writes: merged } as SessionDelta;
      base = fresh.entries;
    }
  }
}

function isMergeable(error: unknown, delta: SessionDelta, container: SessionDataContainer): boolean {
  return error instanceof ConflictError && error.reason === 'version' && !delta.create && container.hasResolvers;
}

/**
 * The delta's writes with every key that moved since `base` merged against `fresh`, each
 * now expecting its fresh version; undefined when a moved key has no resolver or its
 * resolver throws.
 */
function mergeWrites(
  container: SessionDataContainer,
  delta: SessionDelta,
  base: readonly StoredEntry[],
  fresh: readonly StoredEntry[],
): EntryWrite[] | undefined {
  const before = byId(base);
  const now = byId(fresh);
  const writes: EntryWrite[] = [];
  for (const write of delta.writes) {
    const stored = now.get(entryId(write.pkg, write.key));
    const storedVersion = stored?.version ?? 0;
    if (write.expectVersion === undefined || write.expectVersion === storedVersion) {
      writes.push(write);
      continue;
    }
    const resolver = container.resolverFor(write.pkg, write.key);
    if (resolver === undefined) return undefined;
    const decode = (entry: StoredEntry | undefined) =>
      entry === undefined ? undefined : container.codec.decode(entry.value);
    let value: string | undefined;
    try {
      const mine = write.value === undefined ? undefined : container.codec.decode(write.value);
      const merged = resolver(decode(stored), decode(before.get(entryId(write.pkg, write.key))), mine);
      value = merged === undefined ? undefined : container.codec.encode(merged, [write.pkg, write.key]);
    } catch {
      // A resolver that refuses (or merges into something the codec cannot store): the conflict stands.
      return undefined;
    }
    writes.push({ pkg: write.pkg, key: write.key, value, expectVersion: storedVersion });
  }
  return writes;
}

function byId(entries: readonly StoredEntry[]): Map<string, StoredEntry> {
  return new Map(entries.map((e) => [entryId(e.pkg, e.key), e]));
}
