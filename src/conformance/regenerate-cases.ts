import { strict as assert } from 'node:assert';
import type { EntryWrite, ReplacedEntry, SessionDelta, StoredSession } from '../stores/types.js';
import { create, entriesOf, type Harness, loadLive, put, rejectsConflict, T0 } from './harness.js';

/** The entries of a loaded record as a regenerate sends them in `replacesEntries`. */
function loaded(record: StoredSession): ReplacedEntry[] {
  return record.entries.map(({ pkg, key, version }) => ({ pkg, key, version }));
}

/** A regenerate of `old` into `fresh` that moves `writes`, expecting `old` to hold `entries`. */
function move(old: string, entries: readonly ReplacedEntry[], writes: readonly EntryWrite[]): SessionDelta {
  return {
    create: true,
    replaces: old,
    replacesEntries: entries,
    touch: { lastAccess: T0 + 5, expiresAt: T0 + 65 },
    writes,
  };
}

/**
 * A regenerate (`replaces`) with `replacesEntries`: it replaces the old record only if
 * that record still holds exactly the entries the regenerate loaded, so a write to it
 * acknowledged in between is never deleted with it. Every store honours this, atomic
 * regenerate or not.
 */
export function regenerateCases({ t, store }: Harness): void {
  t.describe('regenerate refuses a record changed since it was loaded (replacesEntries)', () => {
    const changes: [string, EntryWrite[], boolean?][] = [
      ['an entry rewritten', [put('a', '"2"')]],
      ['an entry rewritten with the same value', [put('a', '"1"')]],
      ['an entry added', [put('c', '"3"')]],
      ['an entry deleted', [put('b', undefined)]],
      ['every entry cleared', [], true],
    ];
    for (const [change, writes, clear] of changes) {
      t.it(`${change}: ConflictError('version'), the old record intact and no new record`, async () => {
        await create(store(), 'old', [put('a', '"1"'), put('b', '"2"')]);
        const seen = await loadLive(store(), 'old');
        const delta: SessionDelta = { create: false, writes, ...(clear && { clear }) };
        await store().commit('old', delta, T0 + 1);
        const after = entriesOf(await loadLive(store(), 'old', T0 + 1));

        const moved = seen.entries.map(({ pkg, key, value }) => ({ pkg, key, value }));
        await rejectsConflict(store().commit('new', move('old', loaded(seen), moved), T0 + 5), 'version');
        assert.deepEqual(entriesOf(await loadLive(store(), 'old', T0 + 5)), after);
        assert.equal(await store().load('new', T0 + 5), undefined);
      });
    }

    t.it('an unchanged record is replaced, also after a touch; an empty one matches an empty list', async () => {
      await create(store(), 'old', [put('a', '"1"')]);
      const seen = await loadLive(store(), 'old');
      await store().commit(
        'old',
        { create: false, touch: { lastAccess: T0 + 1, expiresAt: T0 + 61 }, writes: [] },
        T0 + 1,
      );
      await store().commit('new', move('old', loaded(seen), [put('a', '"1"')]), T0 + 5);
      assert.equal(await store().load('old', T0 + 5), undefined);
      assert.deepEqual(entriesOf(await loadLive(store(), 'new', T0 + 5)), { 'app.data › a': ['"1"', 1] });

      await create(store(), 'empty', []);
      await store().commit('fresh', move('empty', [], []), T0 + 5);
      assert.equal(await store().load('empty', T0 + 5), undefined);
      assert.ok(await store().load('fresh', T0 + 5));
    });

    t.it('an entry listed that the record does not hold, or at another version, fails', async () => {
      await create(store(), 'old', [put('a', '"1"')]);
      const [entry] = loaded(await loadLive(store(), 'old'));
      assert.ok(entry);
      for (const listed of [[], [entry, { ...entry, key: 'ghost' }], [{ ...entry, version: entry.version + 1 }]]) {
        await rejectsConflict(store().commit('new', move('old', listed, []), T0 + 5), 'version');
      }
      assert.deepEqual(entriesOf(await loadLive(store(), 'old', T0 + 5)), { 'app.data › a': ['"1"', 1] });
      assert.equal(await store().load('new', T0 + 5), undefined);
    });
  });
}
