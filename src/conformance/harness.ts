import { strict as assert } from 'node:assert';
import { ConflictError, type ConflictReason } from '../errors.js';
import type { EntryWrite, SessionStore, StoreCapabilities, StoredEntry, StoredSession } from '../stores/types.js';

/**
 * The test functions the suite registers its cases with. Vitest's, node:test's and
 * mocha's `describe`, `it`, `beforeEach` and `afterEach` all fit, so the suite
 * imports no test framework.
 */
export interface TestApi {
  describe(name: string, fn: () => void): unknown;
  it(name: string, fn: () => Promise<void>): unknown;
  beforeEach(fn: () => Promise<void>): unknown;
  afterEach(fn: () => Promise<void>): unknown;
}

/** A fresh, empty store for one test, and how to dispose of what it left behind. */
export interface StoreFixture {
  store: SessionStore;
  /** Called after the store was closed, e.g. to delete a file, table or key prefix. */
  cleanup?: () => Promise<void>;
}

/** The capabilities the contract checks; a store that lacks one declares it and those cases are left out. */
export type ContractCapabilities = Pick<StoreCapabilities, 'limit' | 'atomicRegenerate' | 'perKeyVersions'> &
  Required<Pick<StoreCapabilities, 'listing'>> & {
    /** Finds records by principal (`capabilities.principals`, `findByPrincipal`). */
    readonly principals: boolean;
  };

/** What each group of cases gets: the store of the running test and the declared capabilities. */
export interface Harness {
  readonly t: TestApi;
  /** The store made for the running test. */
  store(): SessionStore;
  readonly caps: ContractCapabilities;
}

/** The suite's "now": a fixed time, in seconds, so every case is exact. */
export const T0 = 1_700_000_000;
/** The package most cases write to. */
export const PKG = 'app.data';

/** A blind write of `value` to `PKG › key`. */
export function put(key: string, value: string | undefined, pkg = PKG): EntryWrite {
  return { pkg, key, value };
}

/** A write of `PKG › key` that requires the stored version to be `expectVersion`. */
export function putIf(key: string, value: string | undefined, expectVersion: number, pkg = PKG): EntryWrite {
  return { pkg, key, value, expectVersion };
}

/** Creates a record at `now` living until `expiresAt`, with blind writes. */
export async function create(
  store: SessionStore,
  key: string,
  writes: readonly EntryWrite[] = [],
  { now = T0, expiresAt = now + 3600 }: { now?: number; expiresAt?: number | null } = {},
): Promise<void> {
  await store.commit(key, { create: true, touch: { lastAccess: now, expiresAt }, writes }, now);
}

/** The record's entries as `pkg › key` → `[value, version]`, sorted, for deep comparison. */
export function entriesOf(record: Pick<StoredSession, 'entries'> | undefined): Record<string, [string, number]> {
  assert.ok(record, 'expected a live record');
  const sorted = [...record.entries].sort((a, b) => compare(id(a), id(b)));
  return Object.fromEntries(sorted.map((e) => [id(e), [e.value, e.version]]));
}

/** Loads a record that must be live. */
export async function loadLive(store: SessionStore, key: string, now = T0): Promise<StoredSession> {
  const record = await store.load(key, now);
  assert.ok(record, `expected ${JSON.stringify(key)} to be live at ${now}`);
  return record;
}

/** Asserts that `promise` rejects with a `ConflictError` of `reason` (and exactly `keys`, when given). */
export async function rejectsConflict(
  promise: Promise<unknown>,
  reason: ConflictReason,
  keys?: readonly string[],
): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof ConflictError, `expected a ConflictError, got ${String(error)}`);
    assert.equal(error.reason, reason);
    if (keys) assert.deepEqual([...error.keys].sort(compare), [...keys].sort(compare));
    return true;
  });
}

/** Collects an async iterable. */
export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

/** Code-unit order, the same in every JS engine (unlike `localeCompare`). */
export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function id(entry: StoredEntry): string {
  return `${entry.pkg} › ${entry.key}`;
}
