import { strict as assert } from 'node:assert';
import { ConflictError } from '../errors.js';
import type { SessionDelta } from '../stores/types.js';
import { create, entriesOf, type Harness, loadLive, put, putIf, rejectsConflict, T0 } from './harness.js';

/** Commits of deltas: partial writes, deletes, clear, versions and their conflicts, concurrency. */
export function deltaCases({ t, store, caps }: Harness): void {
  t.describe('deltas', () => {
    t.it('a commit changes only the entries it lists, giving each the number of the commit as version', async () => {
      await create(store(), 'k1', [put('a', '"a1"'), put('b', '"b1"'), put('c', '"c1"')]);
      await store().commit('k1', { create: false, writes: [put('a', '"a2"')] }, T0 + 1);
      await store().commit('k1', { create: false, writes: [put('a', '"a3"'), put('d', '"d1"')] }, T0 + 2);
      assert.deepEqual(entriesOf(await loadLive(store(), 'k1', T0 + 2)), {
        'app.data › a': ['"a3"', 3],
        'app.data › b': ['"b1"', 1],
        'app.data › c': ['"c1"', 1],
        'app.data › d': ['"d1"', 3],
      });
    });

    t.it('a write of undefined deletes the entry; deleting a missing entry is a no-op', async () => {
      await create(store(), 'k1', [put('a', '"a1"'), put('b', '"b1"')]);
      await store().commit('k1', { create: false, writes: [put('a', undefined), put('zz', undefined)] }, T0 + 1);
      assert.deepEqual(entriesOf(await loadLive(store(), 'k1', T0 + 1)), { 'app.data › b': ['"b1"', 1] });
    });

    t.it('clear removes every entry before the writes; the entries written get the commit’s version', async () => {
      await create(store(), 'k1', [put('a', '"a1"'), put('b', '"b1"'), put('x', '"x1"', 'other.pkg')]);
      await store().commit('k1', { create: false, writes: [put('a', '"a2"')] }, T0 + 1);
      await store().commit('k1', { create: false, clear: true, writes: [put('a', '"a3"'), put('n', '"n1"')] }, T0 + 2);
      assert.deepEqual(entriesOf(await loadLive(store(), 'k1', T0 + 2)), {
        'app.data › a': ['"a3"', 3],
        'app.data › n': ['"n1"', 3],
      });
      await store().commit('k1', { create: false, clear: true, writes: [] }, T0 + 3);
      assert.deepEqual((await loadLive(store(), 'k1', T0 + 3)).entries, []);
    });
  });

  if (!caps.perKeyVersions) return;

  t.describe('versions', () => {
    t.it('expectVersion equal to the stored version succeeds', async () => {
      await create(store(), 'k1', [put('a', '"a1"')]);
      await store().commit('k1', { create: false, writes: [putIf('a', '"a2"', 1)] }, T0 + 1);
      await store().commit('k1', { create: false, writes: [putIf('a', undefined, 2)] }, T0 + 2);
      assert.deepEqual((await loadLive(store(), 'k1', T0 + 2)).entries, []);
    });

    t.it(
      "stale versions fail with ConflictError 'version' listing every conflict, and nothing is applied",
      async () => {
        await create(store(), 'k1', [put('a', '"a1"'), put('b', '"b1"'), put('c', '"c1"')], { expiresAt: T0 + 60 });
        await store().commit('k1', { create: false, writes: [put('a', '"a2"'), put('b', '"b2"')] }, T0 + 1);
        const before = await loadLive(store(), 'k1', T0 + 1);
        const delta: SessionDelta = {
          create: false,
          clear: true,
          touch: { lastAccess: T0 + 30, expiresAt: T0 + 90 },
          writes: [putIf('a', '"a3"', 1), putIf('b', undefined, 1), putIf('c', '"c2"', 1), put('d', '"d1"')],
        };
        await rejectsConflict(store().commit('k1', delta, T0 + 30), 'version', ['app.data › a', 'app.data › b']);
        const after = await loadLive(store(), 'k1', T0 + 30);
        assert.deepEqual(entriesOf(after), entriesOf(before));
        assert.deepEqual([after.lastAccess, after.expiresAt], [before.lastAccess, before.expiresAt]);
      },
    );

    t.it('expectVersion 0 means the entry must be absent', async () => {
      await create(store(), 'k1', [put('a', '"a1"')]);
      await store().commit('k1', { create: false, writes: [putIf('new', '"n1"', 0)] }, T0 + 1);
      await rejectsConflict(
        store().commit('k1', { create: false, writes: [putIf('a', '"a2"', 0), put('b', '"b1"')] }, T0 + 2),
        'version',
        ['app.data › a'],
      );
      assert.deepEqual(entriesOf(await loadLive(store(), 'k1', T0 + 2)), {
        'app.data › a': ['"a1"', 1],
        'app.data › new': ['"n1"', 2],
      });
      await create(store(), 'k2', [putIf('x', '"x1"', 0)]);
      assert.deepEqual(entriesOf(await loadLive(store(), 'k2')), { 'app.data › x': ['"x1"', 1] });
    });

    t.it('a version conflict on a create writes no record', async () => {
      await rejectsConflict(create(store(), 'k1', [putIf('x', '"x1"', 3)]), 'version', ['app.data › x']);
      assert.equal(await store().load('k1', T0), undefined);
    });
  });

  t.describe('concurrency', () => {
    t.it('50 concurrent commits writing different keys of one record are all kept', async () => {
      await create(store(), 'k1', [put('base', '"0"')]);
      const keys = Array.from({ length: 50 }, (_, i) => `key${i}`);
      await Promise.all(
        keys.map((key, i) => store().commit('k1', { create: false, writes: [putIf(key, `${i}`, 0)] }, T0 + 1)),
      );
      const entries = entriesOf(await loadLive(store(), 'k1', T0 + 1));
      assert.equal(Object.keys(entries).length, 51);
      for (const [i, key] of keys.entries()) assert.equal(entries[`app.data › ${key}`]?.[0], `${i}`);
      // Each commit took its own number: 2 to 51, in the order they were applied.
      const versions = keys.map((key) => entries[`app.data › ${key}`]?.[1] as number).sort((a, b) => a - b);
      assert.deepEqual(
        versions,
        keys.map((_, i) => i + 2),
      );
    });

    t.it('50 concurrent read-then-write commits of one key: exactly one wins, the rest conflict', async () => {
      await create(store(), 'k1', [put('n', '0')]);
      const results = await Promise.allSettled(
        Array.from({ length: 50 }, (_, i) =>
          store().commit('k1', { create: false, writes: [putIf('n', `${i + 1}`, 1)] }, T0 + 1),
        ),
      );
      const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
      assert.equal(won.length, 1);
      for (const r of results) {
        if (r.status === 'rejected') {
          assert.ok(r.reason instanceof ConflictError, `expected ConflictError, got ${String(r.reason)}`);
          assert.equal(r.reason.reason, 'version');
        }
      }
      const entry = entriesOf(await loadLive(store(), 'k1', T0 + 1))['app.data › n'];
      assert.deepEqual(entry, [`${(won[0] as number) + 1}`, 2]);
    });

    t.it('20 concurrent creates of one key: exactly one wins, the rest fail with exists', async () => {
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) => create(store(), 'k1', [put('who', `${i}`)])),
      );
      const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
      assert.equal(won.length, 1);
      for (const r of results) {
        if (r.status === 'rejected') assert.equal((r.reason as ConflictError).reason, 'exists');
      }
      assert.deepEqual(entriesOf(await loadLive(store(), 'k1')), { 'app.data › who': [`${won[0]}`, 1] });
    });
  });
}
