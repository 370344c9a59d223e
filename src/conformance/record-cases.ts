import { strict as assert } from 'node:assert';
import type { SessionDelta, StoredSession } from '../stores/types.js';
import { create, entriesOf, type Harness, loadLive, PKG, put, rejectsConflict, T0 } from './harness.js';

/** Load, create, expiry, touch and destroy of single records. */
export function recordCases({ t, store }: Harness): void {
  t.describe('load and create', () => {
    t.it('load of a key never written is undefined', async () => {
      assert.equal(await store().load('missing', T0), undefined);
    });

    t.it('create then load round-trips times and entries, versions starting at 1', async () => {
      await store().commit(
        'k1',
        {
          create: true,
          touch: { lastAccess: T0 + 0.25, expiresAt: T0 + 3600.5 },
          writes: [put('a', '"1"'), put('b', '{"x":[1,2]}'), put('a', '"other pkg"', 'other.pkg')],
        },
        T0,
      );
      const record = await loadLive(store(), 'k1');
      assert.equal(record.createdAt, T0);
      assert.equal(record.lastAccess, T0 + 0.25);
      assert.equal(record.expiresAt, T0 + 3600.5);
      assert.deepEqual(entriesOf(record), {
        'app.data › a': ['"1"', 1],
        'app.data › b': ['{"x":[1,2]}', 1],
        'other.pkg › a': ['"other pkg"', 1],
      });
    });

    t.it('loadNow, on a store that has it, answers as load does: a record, a missing key, an expired one', async () => {
      const loadNow = store().loadNow?.bind(store());
      // Optional: a store without it is read through load alone (and passes here with nothing to check).
      if (loadNow === undefined) return;
      await create(store(), 'k1', [put('a', '"1"')], { expiresAt: T0 + 10 });
      assert.deepEqual(loadNow('k1', T0), await store().load('k1', T0));
      assert.deepEqual(entriesOf(loadNow('k1', T0 + 10) as StoredSession), { 'app.data › a': ['"1"', 1] });
      assert.equal(loadNow('k1', T0 + 11), undefined);
      assert.equal(loadNow('missing', T0), undefined);
    });

    t.it('a create with no writes makes an empty live record', async () => {
      await create(store(), 'k1');
      assert.deepEqual((await loadLive(store(), 'k1')).entries, []);
    });

    t.it('a create without a touch is refused and writes nothing (for callers the types do not check)', async () => {
      const untyped = { create: true, writes: [put('a', '"1"')] } as unknown as SessionDelta;
      await assert.rejects(store().commit('k1', untyped, T0));
      assert.equal(await store().load('k1', T0), undefined);
    });

    t.it("create on a live key fails with ConflictError 'exists' and changes nothing", async () => {
      await create(store(), 'k1', [put('a', '"first"')]);
      await rejectsConflict(create(store(), 'k1', [put('a', '"second"'), put('b', '"x"')], { now: T0 + 5 }), 'exists');
      const record = await loadLive(store(), 'k1', T0 + 5);
      assert.deepEqual(entriesOf(record), { 'app.data › a': ['"first"', 1] });
      assert.equal(record.lastAccess, T0);
    });

    t.it('create over an expired record replaces it cleanly: old entries and times are gone', async () => {
      await create(store(), 'k1', [put('old', '"stale"'), put('a', '"old a"')], { expiresAt: T0 + 10 });
      await create(store(), 'k1', [put('a', '"new a"')], { now: T0 + 11 });
      const record = await loadLive(store(), 'k1', T0 + 11);
      assert.deepEqual(entriesOf(record), { 'app.data › a': ['"new a"', 1] });
      assert.equal(record.createdAt, T0 + 11);
      assert.equal(record.lastAccess, T0 + 11);
    });
  });

  t.describe('expiry', () => {
    t.it('a record is alive at now == expiresAt and gone just after', async () => {
      await create(store(), 'k1', [put('a', '"1"')], { expiresAt: T0 + 60 });
      assert.ok(await store().load('k1', T0 + 60));
      assert.equal(await store().load('k1', T0 + 60.5), undefined);
      assert.equal(await store().load('k1', T0 + 10_000), undefined);
    });

    t.it('expiresAt null never expires', async () => {
      await create(store(), 'k1', [put('a', '"1"')], { expiresAt: null });
      const record = await loadLive(store(), 'k1', T0 + 100 * 365 * 86_400);
      assert.equal(record.expiresAt, null);
      assert.deepEqual(entriesOf(record), { 'app.data › a': ['"1"', 1] });
    });

    t.it("a commit to an expired record fails with ConflictError 'gone' and never resurrects it", async () => {
      await create(store(), 'k1', [put('a', '"1"')], { expiresAt: T0 + 60 });
      const late = T0 + 61;
      await rejectsConflict(
        store().commit('k1', { create: false, touch: { lastAccess: late, expiresAt: late + 60 }, writes: [] }, late),
        'gone',
      );
      await rejectsConflict(store().commit('k1', { create: false, writes: [put('b', '"2"')] }, late), 'gone');
      assert.equal(await store().load('k1', late), undefined);
    });

    t.it("a commit to a key never created fails with ConflictError 'gone' and creates nothing", async () => {
      await rejectsConflict(store().commit('nobody', { create: false, writes: [put('a', '"1"')] }, T0), 'gone');
      assert.equal(await store().load('nobody', T0), undefined);
    });
  });

  t.describe('touch', () => {
    t.it('a touch moves lastAccess and expiresAt; a commit without one keeps them and createdAt', async () => {
      await create(store(), 'k1', [], { expiresAt: T0 + 60 });
      await store().commit(
        'k1',
        { create: false, touch: { lastAccess: T0 + 50, expiresAt: T0 + 110 }, writes: [] },
        T0 + 50,
      );
      let record = await loadLive(store(), 'k1', T0 + 100);
      assert.deepEqual([record.createdAt, record.lastAccess, record.expiresAt], [T0, T0 + 50, T0 + 110]);
      await store().commit('k1', { create: false, writes: [put('a', '"1"')] }, T0 + 100);
      record = await loadLive(store(), 'k1', T0 + 100);
      assert.deepEqual([record.createdAt, record.lastAccess, record.expiresAt], [T0, T0 + 50, T0 + 110]);
    });

    t.it('two racing touches keep the later lastAccess and expiresAt (SPEC 30)', async () => {
      await create(store(), 'k1', [], { expiresAt: T0 + 60 });
      const touch = (at: number) =>
        store().commit('k1', { create: false, touch: { lastAccess: at, expiresAt: at + 60 }, writes: [] }, at);
      await touch(T0 + 20);
      await touch(T0 + 10); // the slower request, which read the clock earlier, commits last
      let record = await loadLive(store(), 'k1', T0 + 20);
      assert.deepEqual([record.lastAccess, record.expiresAt], [T0 + 20, T0 + 80]);
      await Promise.all([touch(T0 + 40), touch(T0 + 30)]);
      record = await loadLive(store(), 'k1', T0 + 40);
      assert.deepEqual([record.lastAccess, record.expiresAt], [T0 + 40, T0 + 100]);
    });
  });

  t.describe('destroy', () => {
    t.it('destroy resolves true for a record, false when there is none, and the record is gone', async () => {
      await create(store(), 'k1', [put('a', '"1"')]);
      await create(store(), 'k2', [put('a', '"2"')]);
      assert.equal(await store().destroy('k1'), true);
      assert.equal(await store().load('k1', T0), undefined);
      assert.equal(await store().destroy('k1'), false);
      assert.equal(await store().destroy('never'), false);
      assert.deepEqual(entriesOf(await loadLive(store(), 'k2')), { [`${PKG} › a`]: ['"2"', 1] });
    });

    t.it("a commit after destroy fails with 'gone'; a create then starts empty", async () => {
      await create(store(), 'k1', [put('a', '"1"')]);
      await store().destroy('k1');
      await rejectsConflict(store().commit('k1', { create: false, writes: [put('b', '"2"')] }, T0), 'gone');
      await create(store(), 'k1', [put('c', '"3"')], { now: T0 + 1 });
      assert.deepEqual(entriesOf(await loadLive(store(), 'k1', T0 + 1)), { [`${PKG} › c`]: ['"3"', 1] });
    });
  });
}
