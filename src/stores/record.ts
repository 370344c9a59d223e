/**
 * The commit rules, in one place, for store implementers: when a record is live, what a
 * delta requires of the stored record (create / exists / gone, the replaced record,
 * exact entry versions), how the record's times and commit sequence move, how entry
 * writes apply, and the size caps. Every in-process store (memory, SQLite, connect) calls
 * these functions; the Redis Lua script (`redis/scripts.ts`) and the PostgreSQL function
 * (`postgres/commit-function.ts`) cannot, so they mirror them, each step with a comment
 * naming the function here it mirrors. The contract suite (`tsession/conformance`) pins
 * every rule, so a third-party store that passes it follows them too.
 *
 * @module
 */
import { ConflictError, SessionStateError, SessionTooLargeError } from '../errors.js';
import type {
  EntryWrite,
  ReplacedEntry,
  SessionCaps,
  SessionDelta,
  StoredEntry,
  StoredSession,
  Touch,
} from './types.js';

/**
 * The reserved package of tsession's own per-session data (the client binding). Its
 * entries count towards a session's bytes and keys, but not towards `maxPackages`: the
 * cap is on the app's packages.
 */
export const INTERNAL_PACKAGE = 'tsession:internal';

/**
 * The key, in {@link INTERNAL_PACKAGE}, of the user a session belongs to
 * (`session.setPrincipal`); its value is the codec's encoding of the user id. Stores that
 * index principals (`capabilities.principals`) index this entry, so the index follows the
 * entry through every commit, regenerate, destroy, sweep and import.
 */
export const PRINCIPAL_KEY = 'principal';

// ---------------------------------------------------------------------------
// Liveness and times

/** True when a record with this expiry is alive at `now`: alive at `now == expiresAt`; `null` never expires. */
export function isLive(record: Pick<StoredSession, 'expiresAt'> | undefined, now: number): boolean {
  return record !== undefined && (record.expiresAt === null || now <= record.expiresAt);
}

/** Two racing touches keep the later expiry; `null` (never) wins only when it is the new one or the old one. */
export function laterExpiry(current: number | null, next: number | null): number | null {
  if (next === null || current === null) return next;
  return Math.max(current, next);
}

/**
 * The record's times after a delta. A create starts them from its touch (and `createdAt`
 * from the delta, for an import, else `now`); an update keeps the later last access and
 * the later expiry of the stored record and its touch, so racing touches never move a
 * session back in time.
 */
export function nextRecord(
  current: Omit<StoredSession, 'entries'> | undefined,
  delta: SessionDelta,
  now: number,
): Omit<StoredSession, 'entries'> {
  if (delta.create) {
    const { lastAccess, expiresAt } = delta.touch;
    return { createdAt: delta.createdAt ?? now, lastAccess, expiresAt };
  }
  if (current === undefined) throw new SessionStateError('an update delta needs the live record it updates');
  const touch: Touch | undefined = delta.touch;
  if (touch === undefined)
    return { createdAt: current.createdAt, lastAccess: current.lastAccess, expiresAt: current.expiresAt };
  return {
    createdAt: current.createdAt,
    lastAccess: Math.max(current.lastAccess, touch.lastAccess),
    expiresAt: laterExpiry(current.expiresAt, touch.expiresAt),
  };
}

/**
 * The record's commit sequence after a delta (see `StoredEntry.version`): a commit with
 * at least one entry write takes `seq + 1`, gives it to every entry it sets, and stores it
 * back; one without writes keeps `seq`. A new record (also one created over an expired
 * record) counts from 0.
 */
export function nextSeq(seq: number, delta: Pick<SessionDelta, 'writes'>): number {
  return delta.writes.length > 0 ? seq + 1 : seq;
}

// ---------------------------------------------------------------------------
// Preconditions

/** What {@link checkPreconditions} needs to know about the records a delta touches. */
export interface PreconditionView {
  /** The record under the commit's key, live or not; undefined when there is none. */
  readonly current: Pick<StoredSession, 'expiresAt'> | undefined;
  /** The stored version of an entry of the current record (0 when absent); asked only when the record is live. */
  readonly versionOf: (write: EntryWrite) => number;
  /** The record `delta.replaces` names, when the delta has one. */
  readonly replaced?: Pick<StoredSession, 'expiresAt'> | undefined;
  /** The replaced record's entries now; asked only when `replacesEntries` is given. */
  readonly replacedEntries?: () => readonly Pick<StoredEntry, 'pkg' | 'key' | 'version'>[];
}

/**
 * Checks every precondition of a delta, in this order, before anything is written:
 * 1. a create needs no live record under its key (`ConflictError('exists')`), an update
 *    needs one (`'gone'`: an ended session is never resurrected); a create needs a touch;
 * 2. the record a regenerate replaces must be live (`'gone'`) and hold exactly the entries
 *    the regenerate loaded, when it says which (`'version'`);
 * 3. every `expectVersion` equals the stored version (0: absent); all the entries that
 *    moved are named at once (`'version'`). A record created over an expired one has
 *    no entries, so its versions are all 0.
 *
 * `writes` must be {@link lastWritePerEntry}'s folding of the delta's writes.
 */
export function checkPreconditions(
  delta: SessionDelta,
  writes: readonly EntryWrite[],
  view: PreconditionView,
  now: number,
): void {
  const live = isLive(view.current, now);
  if (delta.create ? live : !live) throw new ConflictError(delta.create ? 'exists' : 'gone');
  if (delta.create && delta.touch === undefined) {
    throw new SessionStateError('a commit that creates a record needs a `touch` (its last-access time and expiry)');
  }
  if (delta.create && delta.replaces !== undefined) {
    if (!isLive(view.replaced, now)) throw new ConflictError('gone');
    // A write to the old record since the regenerate loaded it would be deleted with it.
    const entries = delta.replacesEntries === undefined ? undefined : view.replacedEntries?.();
    if (entries !== undefined && !holdsExactly(entries, delta.replacesEntries)) throw new ConflictError('version');
  }
  const conflicts = writes
    .filter((w) => w.expectVersion !== undefined && (live ? view.versionOf(w) : 0) !== w.expectVersion)
    .map((w) => `${w.pkg} › ${w.key}`);
  if (conflicts.length > 0) throw new ConflictError('version', conflicts);
}

/**
 * True when `stored` (the replaced record's entries now) are exactly `expected` (as a
 * regenerate loaded them, `replacesEntries`): the same (package id, key) pairs at the
 * same versions, none more, none fewer. Absent `expected` always matches.
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

// ---------------------------------------------------------------------------
// Entry writes

/** One string naming a (package id, key) pair; `\0` cannot occur in either. */
export function entryId(pkg: string, key: string): string {
  return `${pkg}\0${key}`;
}

/**
 * The writes with one per entry, the last winning, as applying them in order would leave
 * it; each keeps the FIRST write's `expectVersion`, the one checked against the store.
 */
export function lastWritePerEntry(writes: readonly EntryWrite[]): EntryWrite[] {
  const byId = new Map<string, EntryWrite>();
  for (const w of writes) {
    const id = entryId(w.pkg, w.key);
    const first = byId.get(id);
    const expectVersion = first === undefined ? w.expectVersion : first.expectVersion;
    byId.delete(id);
    byId.set(id, {
      pkg: w.pkg,
      key: w.key,
      value: w.value,
      ...(expectVersion !== undefined && { expectVersion }),
      ...(w.add !== undefined && { add: w.add }),
    });
  }
  return [...byId.values()];
}

/** The largest integer an increment may reach, either way: beyond it a double (and Lua) loses units. */
const MAX_COUNTER = Number.MAX_SAFE_INTEGER;

/**
 * THE increment rule: turns every write with an `add` into a plain set of the integer the
 * record stores for that entry (0 when absent, or when the commit creates or clears the
 * record) plus
 * `add`, written in decimal as JSON writes a number. Call it after
 * {@link checkPreconditions} and before measuring, inside the commit's atomic step, with
 * `storedValue` giving the stored encoding of a write's entry (undefined when none).
 * @throws SessionStateError, having written nothing, when the stored value is not an
 *   integer or the sum would pass ±{@link Number.MAX_SAFE_INTEGER}.
 */
export function resolveIncrements(
  writes: readonly EntryWrite[],
  storedValue: (write: EntryWrite) => string | undefined,
): readonly EntryWrite[] {
  if (!writes.some((w) => w.add !== undefined)) return writes;
  return writes.map((w) => {
    if (w.add === undefined) return w;
    if (!Number.isSafeInteger(w.add)) throw incrementError(w, 'the amount is not a safe integer');
    const sum = counterValue(storedValue(w), w) + w.add;
    if (!(Math.abs(sum) <= MAX_COUNTER)) throw incrementError(w, 'the sum would pass ±2^53-1');
    return { pkg: w.pkg, key: w.key, value: String(sum) };
  });
}

/** The pattern of a stored counter: an integer as JSON writes it (its size is checked apart). */
const COUNTER = /^(0|-?[1-9][0-9]*)$/;

function counterValue(stored: string | undefined, write: EntryWrite): number {
  if (stored === undefined) return 0;
  if (!COUNTER.test(stored) || !(Math.abs(Number(stored)) <= MAX_COUNTER)) {
    throw incrementError(write, 'the stored value is not an integer');
  }
  return Number(stored);
}

/** The error of an increment a store refuses; its message names the entry. */
export function incrementError(write: Pick<EntryWrite, 'pkg' | 'key'>, why: string): SessionStateError {
  return new SessionStateError(`cannot increment ${write.pkg} › ${write.key}: ${why}`);
}

/** What {@link applyEntryWrites} returns: the record's new entries and its new commit sequence. */
export interface AppliedWrites {
  /** Every entry of the record after the delta. */
  readonly entries: StoredEntry[];
  /** The record's commit sequence after the delta: keep it with the record for its next commit. */
  readonly seq: number;
}

/**
 * Applies a delta's entry writes to a record's entries, for stores that hold whole
 * records in process (memory) or rebuild them (a blob store). Checks nothing: call
 * {@link checkPreconditions} first. Every entry set gets the commit's number
 * ({@link nextSeq}); store the returned `seq` with the record.
 *
 * @example
 * ```ts
 * const { entries, seq } = applyEntryWrites(record.entries, delta, record.seq);
 * save(key, { ...record, entries, seq });
 * ```
 */
export function applyEntryWrites(
  current: readonly StoredEntry[],
  delta: { readonly clear?: boolean | undefined; readonly writes: readonly EntryWrite[] },
  seq: number,
): AppliedWrites {
  const version = nextSeq(seq, delta);
  const next = delta.clear ? new Map<string, StoredEntry>() : new Map(current.map((e) => [entryId(e.pkg, e.key), e]));
  for (const w of delta.writes) {
    const id = entryId(w.pkg, w.key);
    if (w.value === undefined) next.delete(id);
    else next.set(id, { pkg: w.pkg, key: w.key, value: w.value, version });
  }
  return { entries: [...next.values()], seq: version };
}

// ---------------------------------------------------------------------------
// Size caps

/**
 * What a record's size is measured in, kept with the record so that a commit is checked
 * against the record as stored without reading every entry.
 */
export interface RecordMeasure {
  /** UTF-8 bytes of every entry: package id, key and encoded value ({@link entryBytes}). */
  readonly bytes: number;
  /** Packages holding at least one key, {@link INTERNAL_PACKAGE} not counted. */
  readonly packages: number;
}

/** The measure of a record with no entries. */
export const EMPTY_MEASURE: RecordMeasure = { bytes: 0, packages: 0 };

/** The UTF-8 bytes an entry costs: its package id, key and encoded value. */
export function entryBytes(pkg: string, key: string, value: string): number {
  return Buffer.byteLength(pkg) + Buffer.byteLength(key) + Buffer.byteLength(value);
}

/** The measure of a whole list of entries, and the keys each package holds. */
export function measureEntries(entries: readonly Pick<StoredEntry, 'pkg' | 'key' | 'value'>[]): {
  measure: RecordMeasure;
  keys: Map<string, number>;
} {
  let bytes = 0;
  const keys = new Map<string, number>();
  for (const e of entries) {
    bytes += entryBytes(e.pkg, e.key, e.value);
    keys.set(e.pkg, (keys.get(e.pkg) ?? 0) + 1);
  }
  return { measure: { bytes, packages: countPackages(keys.keys()) }, keys };
}

function countPackages(pkgs: Iterable<string>): number {
  let n = 0;
  for (const pkg of pkgs) if (pkg !== INTERNAL_PACKAGE) n++;
  return n;
}

/** How a store answers {@link measureCommit}'s questions about the record as stored. */
export interface MeasureLookup {
  /** The {@link entryBytes} of the stored entry a write replaces or deletes; undefined when there is none. */
  storedBytes(write: EntryWrite): number | undefined;
  /** The keys the stored record holds in `pkg`. */
  keysIn(pkg: string): number;
}

/** A commit's effect on the measure: the record's new measure and, per package written, its keys before and after. */
export interface MeasuredCommit {
  readonly measure: RecordMeasure;
  readonly keys: ReadonlyMap<string, { readonly before: number; readonly after: number }>;
}

/**
 * The record's measure after a delta, computed from the stored measure and the entries
 * the delta writes only (never every entry). `writes` must be {@link lastWritePerEntry}'s
 * folding; for a new record pass {@link EMPTY_MEASURE} and a lookup that finds nothing.
 */
export function measureCommit(
  before: RecordMeasure,
  writes: readonly EntryWrite[],
  clear: boolean,
  lookup: MeasureLookup,
): MeasuredCommit {
  const keys = new Map<string, { before: number; after: number }>();
  for (const w of writes) {
    if (keys.has(w.pkg)) continue;
    const held = lookup.keysIn(w.pkg);
    keys.set(w.pkg, { before: held, after: clear ? 0 : held });
  }
  let bytes = clear ? 0 : before.bytes;
  for (const w of writes) {
    const count = keys.get(w.pkg) as { before: number; after: number };
    const stored = clear ? undefined : lookup.storedBytes(w);
    if (stored !== undefined) {
      bytes -= stored;
      count.after--;
    }
    if (w.value !== undefined) {
      bytes += entryBytes(w.pkg, w.key, w.value);
      count.after++;
    }
  }
  let packages = clear ? 0 : before.packages;
  for (const [pkg, count] of keys) {
    if (pkg === INTERNAL_PACKAGE) continue;
    const held = !clear && count.before > 0;
    if (!held && count.after > 0) packages++;
    if (held && count.after === 0) packages--;
  }
  return { measure: { bytes, packages }, keys };
}

/**
 * THE cap rule: refuses a count that ends over its cap AND grew. So a commit that only
 * touches, or shrinks, always passes, even over a cap that was lowered since: read-only
 * requests, a logout or a regenerate that drops data never break. `before` may be a
 * function, asked only when `after` is over the cap (a request-side check then measures
 * the loaded record only on that rare path).
 * @throws SessionTooLargeError
 */
export function checkCap(what: string, after: number, max: number, before: number | (() => number)): void {
  if (after <= max) return;
  if (after > (typeof before === 'function' ? before() : before)) throw new SessionTooLargeError(after, max, what);
}

/**
 * Checks a measured commit against the delta's caps (none given: nothing to check):
 * bytes, packages, then keys of each package written. Stores call it in the same atomic
 * step as the write, against the record as stored, so concurrent requests cannot pass a
 * cap together. A create's `before` is {@link EMPTY_MEASURE} (also for a regenerate: the
 * new record starts from nothing).
 * @throws SessionTooLargeError, having written nothing.
 */
export function checkCaps(caps: SessionCaps | undefined, before: RecordMeasure, commit: MeasuredCommit): void {
  if (caps === undefined) return;
  checkCap('bytes', commit.measure.bytes, caps.maxBytes, before.bytes);
  checkCap('packages', commit.measure.packages, caps.maxPackages, before.packages);
  for (const [pkg, count] of commit.keys) {
    checkCap(`keys in package ${pkg}`, count.after, caps.maxKeysPerPackage, count.before);
  }
}

/** A stored record as an in-process store keeps it: the session and its commit sequence. */
export type SequencedRecord = StoredSession & { readonly seq: number };

/** What {@link commitInProcess} produced: the record to store and its measure, and the writes applied. */
export interface CommittedRecord {
  /** The record after the commit (keep it with `seq` and `measure`). */
  readonly record: StoredSession;
  readonly seq: number;
  readonly measure: RecordMeasure;
  /** The writes after folding and resolving increments. */
  readonly writes: readonly EntryWrite[];
}

/**
 * The whole rule set of a commit, in order, for a store that holds its records as objects
 * (memory, the express-session blob): liveness, preconditions, increments, the caps against
 * the record as stored, the entry writes and the next record. `measured` is the stored
 * measure when the store keeps one; else it is measured from the entries.
 * @throws ConflictError, SessionTooLargeError, SessionStateError, having changed nothing.
 */
export function commitInProcess(
  delta: SessionDelta,
  now: number,
  current: SequencedRecord | undefined,
  replaced: StoredSession | undefined,
  measured?: (live: SequencedRecord) => { measure: RecordMeasure; keysIn(pkg: string): number },
): CommittedRecord {
  const live = current && isLive(current, now) ? current : undefined;
  const folded = lastWritePerEntry(delta.writes);
  const stored = new Map(live?.entries.map((e) => [entryId(e.pkg, e.key), e]));
  const storedOf = (w: Pick<EntryWrite, 'pkg' | 'key'>) => stored.get(entryId(w.pkg, w.key));
  checkPreconditions(
    delta,
    folded,
    {
      current,
      versionOf: (w) => storedOf(w)?.version ?? 0,
      replaced,
      replacedEntries: () => replaced?.entries ?? [],
    },
    now,
  );
  const writes = resolveIncrements(folded, (w) => (delta.clear ? undefined : storedOf(w)?.value));
  const kept = live === undefined ? undefined : measured ? measured(live) : fromEntries(live.entries);
  const before = kept?.measure ?? EMPTY_MEASURE;
  const after = measureCommit(before, writes, delta.clear === true, {
    storedBytes: (w) => {
      const e = storedOf(w);
      return e && entryBytes(e.pkg, e.key, e.value);
    },
    keysIn: (pkg) => kept?.keysIn(pkg) ?? 0,
  });
  checkCaps(delta.caps, before, after);
  const { entries, seq } = applyEntryWrites(live?.entries ?? [], { clear: delta.clear, writes }, live?.seq ?? 0);
  return { record: { ...nextRecord(live, delta, now), entries }, seq, measure: after.measure, writes };
}

function fromEntries(entries: readonly StoredEntry[]): { measure: RecordMeasure; keysIn(pkg: string): number } {
  const { measure, keys } = measureEntries(entries);
  return { measure, keysIn: (pkg) => keys.get(pkg) ?? 0 };
}
