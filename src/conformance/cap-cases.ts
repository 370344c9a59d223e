import { strict as assert } from 'node:assert';
import { SessionTooLargeError } from '../errors.js';
import { entryBytes, INTERNAL_PACKAGE, measureEntries } from '../stores/record.js';
import type { EntryWrite, SessionCaps, SessionDelta, StoredSession } from '../stores/types.js';
import { create, entriesOf, type Harness, loadLive, PKG, put, T0 } from './harness.js';

/** Caps roomy enough for every case; each case lowers the one it is about. */
const ROOMY: SessionCaps = { maxBytes: 1_000_000, maxPackages: 100, maxKeysPerPackage: 1000 };

/**
 * The size caps (`checkCaps` in `stores/record.ts`): counted in UTF-8 bytes of package
 * ids, keys and values, against the record as stored, refused only when a count ends over
 * its cap and grew, and held by concurrent commits. Also `createdAt` on a create.
 */
export function capCases({ t, store }: Harness): void {
  const update = (key: string, writes: readonly EntryWrite[], caps: Partial<SessionCaps>, now = T0 + 1) =>
    store().commit(key, { create: false, writes, caps: { ...ROOMY, ...caps } }, now);
  const rejectsTooLarge = async (promise: Promise<unknown>, what: string, size?: number) => {
    await assert.rejects(promise, (error: unknown) => {
      assert.ok(error instanceof SessionTooLargeError, `expected a SessionTooLargeError, got ${String(error)}`);
      assert.equal(error.what, what);
      if (size !== undefined) assert.equal(error.size, size);
      return true;
    });
  };

  t.describe('size caps', () => {
    t.it(
      'counts UTF-8 bytes of package id, key and value: a record exactly at maxBytes passes, one byte more fails',
      async () => {
        const value = `"${'漢字'.repeat(10)}"`; // 22 code units, 62 bytes
        const exact = entryBytes(PKG, 'k', value);
        assert.equal(exact, 8 + 1 + 62);
        await create(store(), 's', []);
        await rejectsTooLarge(update('s', [put('k', value)], { maxBytes: exact - 1 }), 'bytes', exact);
        assert.deepEqual((await loadLive(store(), 's', T0 + 1)).entries, []);
        await update('s', [put('k', value)], { maxBytes: exact });
        assert.deepEqual(entriesOf(await loadLive(store(), 's', T0 + 1)), { 'app.data › k': [value, 1] });
      },
    );

    t.it('checks a creating commit too, and a refused commit writes nothing', async () => {
      const caps = { ...ROOMY, maxBytes: 50 };
      const delta: SessionDelta = {
        create: true,
        touch: { lastAccess: T0, expiresAt: T0 + 60 },
        writes: [put('big', `"${'x'.repeat(60)}"`)],
        caps,
      };
      await assert.rejects(store().commit('s', delta, T0), SessionTooLargeError);
      assert.equal(await store().load('s', T0), undefined);
    });

    t.it(
      'checks against the record as stored, not the writes alone: a second write that passes the cap fails',
      async () => {
        const half = `"${'y'.repeat(40)}"`;
        await create(store(), 's', [put('a', half)]);
        const stored = entryBytes(PKG, 'a', half);
        await rejectsTooLarge(update('s', [put('b', half)], { maxBytes: stored + 10 }), 'bytes', stored * 2);
        // A rewrite of the same entry replaces its bytes instead of adding them.
        await update('s', [put('a', `"${'z'.repeat(40)}"`)], { maxBytes: stored });
      },
    );

    t.it('keeps the size through deletes, clears and re-creates: freed bytes can be used again', async () => {
      const value = `"${'v'.repeat(30)}"`;
      const one = entryBytes(PKG, 'a', value);
      await create(store(), 's', [put('a', value)]);
      await update('s', [put('a', undefined)], { maxBytes: one });
      await update('s', [put('b', value)], { maxBytes: one });
      await store().commit(
        's',
        { create: false, clear: true, writes: [put('c', value)], caps: { ...ROOMY, maxBytes: one } },
        T0 + 2,
      );
      await update('s', [put('c', undefined), put('a', value)], { maxBytes: one }, T0 + 3);
      await rejectsTooLarge(update('s', [put('d', '"1"')], { maxBytes: one }, T0 + 3), 'bytes');
      assert.deepEqual(Object.keys(entriesOf(await loadLive(store(), 's', T0 + 3))), ['app.data › a']);
    });

    t.it(
      'a touch-only or shrinking commit passes a record already over a lowered cap; a growing one fails',
      async () => {
        await create(store(), 's', [put('a', `"${'a'.repeat(100)}"`), put('b', `"${'b'.repeat(100)}"`)]);
        const lowered = { maxBytes: 50, maxPackages: 1, maxKeysPerPackage: 1 };
        await store().commit(
          's',
          { create: false, touch: { lastAccess: T0 + 5, expiresAt: T0 + 65 }, writes: [], caps: { ...lowered } },
          T0 + 5,
        );
        await update('s', [put('a', '"short"')], lowered, T0 + 6);
        await rejectsTooLarge(update('s', [put('b', `"${'b'.repeat(101)}"`)], lowered, T0 + 6), 'bytes');
        await update('s', [put('b', undefined)], lowered, T0 + 7);
        assert.deepEqual(entriesOf(await loadLive(store(), 's', T0 + 7)), { 'app.data › a': ['"short"', 2] });
      },
    );

    t.it(
      'maxPackages counts packages holding keys, not the internal one; a package emptied frees its place',
      async () => {
        await create(store(), 's', [put('k', '1', 'p1'), put('binding', '"x"', INTERNAL_PACKAGE)]);
        await update('s', [put('k', '1', 'p2')], { maxPackages: 2 });
        await rejectsTooLarge(update('s', [put('k', '1', 'p3')], { maxPackages: 2 }), 'packages', 3);
        await update('s', [put('k', undefined, 'p1'), put('k', '1', 'p3')], { maxPackages: 2 });
        const pkgs = new Set((await loadLive(store(), 's', T0 + 1)).entries.map((e) => e.pkg));
        assert.deepEqual([...pkgs].sort(), ['p2', 'p3', INTERNAL_PACKAGE].sort());
      },
    );

    t.it('maxKeysPerPackage counts the keys of each package written, as stored', async () => {
      await create(store(), 's', [put('a', '1'), put('b', '1'), put('x', '1', 'other')]);
      await rejectsTooLarge(update('s', [put('c', '1')], { maxKeysPerPackage: 2 }), `keys in package ${PKG}`, 3);
      await update('s', [put('y', '1', 'other')], { maxKeysPerPackage: 2 });
      await update('s', [put('a', undefined), put('c', '1')], { maxKeysPerPackage: 2 });
      assert.equal(measureEntries((await loadLive(store(), 's', T0 + 1)).entries).keys.get(PKG), 2);
    });

    t.it('concurrent commits each adding a package cannot pass the caps together', async () => {
      const caps = { maxBytes: 10_000, maxPackages: 3, maxKeysPerPackage: 10 };
      await create(store(), 's', [put('v', '"start"', 'app.start')]);
      const value = `"${'p'.repeat(3000)}"`;
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) => update('s', [put('v', value, `app.p${i}`)], caps)),
      );
      const refused = results.filter((r) => r.status === 'rejected');
      for (const r of refused) assert.ok(r.reason instanceof SessionTooLargeError, String(r.reason));
      const { measure } = measureEntries((await loadLive(store(), 's', T0 + 1)).entries);
      assert.ok(measure.bytes <= caps.maxBytes && measure.packages <= caps.maxPackages, JSON.stringify(measure));
      assert.equal(measure.packages, 1 + results.length - refused.length);
      assert.equal(refused.length, 18);
    });

    t.it('a create keeps the createdAt it is given (import), else takes the commit time', async () => {
      const touch = { lastAccess: T0, expiresAt: T0 + 60 };
      await store().commit('imported', { create: true, touch, writes: [], createdAt: T0 - 5000 }, T0);
      await store().commit('fresh', { create: true, touch, writes: [] }, T0);
      const times = (r: StoredSession) => [r.createdAt, r.lastAccess, r.expiresAt];
      assert.deepEqual(times(await loadLive(store(), 'imported')), [T0 - 5000, T0, T0 + 60]);
      assert.deepEqual(times(await loadLive(store(), 'fresh')), [T0, T0, T0 + 60]);
    });
  });
}
