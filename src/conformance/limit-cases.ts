import { strict as assert } from 'node:assert';
import { SessionLimitError } from '../errors.js';
import type { SessionDelta, SessionLimit } from '../stores/types.js';
import { compare, create, entriesOf, type Harness, loadLive, put, rejectsConflict, T0 } from './harness.js';

/** Container limits (reject and evict) and regenerate (`replaces`). */
export function limitCases({ t, store, caps }: Harness): void {
  const createLimited = (key: string, limit: SessionLimit, now: number, replaces?: string) =>
    store().commit(
      key,
      {
        create: true,
        touch: { lastAccess: now, expiresAt: now + 600 },
        writes: [put('a', `"${key}"`)],
        limit,
        ...(replaces !== undefined && { replaces }),
      },
      now,
    );

  if (caps.limit) {
    t.describe('limit', () => {
      t.it('reject: a creating commit over the limit fails with SessionLimitError and stores nothing', async () => {
        const limit = { max: 3, policy: 'reject' } as const;
        for (const [i, key] of ['a', 'b', 'c'].entries()) await createLimited(key, limit, T0 + i);
        await assert.rejects(createLimited('d', limit, T0 + 5), SessionLimitError);
        assert.equal(await store().load('d', T0 + 5), undefined);
        assert.equal(await store().count?.(T0 + 5), 3);
        await store().commit('a', { create: false, writes: [put('more', '"ok"')] }, T0 + 6);
      });

      t.it('reject: expired records do not count against the limit', async () => {
        const limit = { max: 2, policy: 'reject' } as const;
        await createLimited('old', limit, T0 - 700);
        await createLimited('a', limit, T0);
        await createLimited('b', limit, T0 + 1);
        assert.equal(await store().count?.(T0 + 1), 2);
        await assert.rejects(createLimited('c', limit, T0 + 2), SessionLimitError);
      });

      t.it('evict: the least recently used record makes room and is reported', async () => {
        const limit = { max: 3, policy: 'evict' } as const;
        for (const [i, key] of ['a', 'b', 'c'].entries()) await createLimited(key, limit, T0 + i);
        await store().commit(
          'a',
          { create: false, touch: { lastAccess: T0 + 3, expiresAt: T0 + 603 }, writes: [] },
          T0 + 3,
        );
        const result = await createLimited('d', limit, T0 + 4);
        assert.deepEqual(result.evicted, ['b']);
        assert.equal(await store().load('b', T0 + 4), undefined);
        for (const key of ['a', 'c', 'd']) await loadLive(store(), key, T0 + 4);
        assert.deepEqual((await createLimited('e', limit, T0 + 5)).evicted, ['c']);
        assert.equal(await store().count?.(T0 + 5), 3);
      });

      t.it('a record created over an expired one of the same key still honours the limit', async () => {
        for (const policy of ['reject', 'evict'] as const) {
          const [x, a, b] = [`${policy}-x`, `${policy}-a`, `${policy}-b`];
          await create(store(), x, [], { now: T0 - 600, expiresAt: T0 + 0.5 });
          await create(store(), a, [], { now: T0, expiresAt: T0 + 600 });
          await create(store(), b, [], { now: T0 + 1, expiresAt: T0 + 601 });
          const recreate = createLimited(x, { max: 2, policy }, T0 + 2);
          if (policy === 'reject') {
            await assert.rejects(recreate, SessionLimitError);
            assert.equal(await store().load(x, T0 + 2), undefined);
          } else {
            assert.deepEqual((await recreate).evicted, [a]);
          }
          assert.equal(await store().count?.(T0 + 2), 2);
          for (const key of [x, a, b]) await store().destroy(key);
        }
      });

      t.it('a commit that does not create never evicts or fails on the limit', async () => {
        const limit = { max: 1, policy: 'reject' } as const;
        await createLimited('a', limit, T0);
        const result = await store().commit('a', { create: false, writes: [put('b', '"1"')] }, T0 + 1);
        assert.deepEqual(result.evicted, []);
      });

      if (caps.atomicRegenerate) {
        t.it('a regenerate at the limit frees the place of the record it replaces', async () => {
          for (const policy of ['reject', 'evict'] as const) {
            const limit = { max: 2, policy };
            await createLimited(`${policy}1`, limit, T0);
            await createLimited(`${policy}2`, limit, T0 + 1);
            const result = await createLimited(`${policy}1b`, limit, T0 + 2, `${policy}1`);
            assert.deepEqual(result.evicted, []);
            const live = [`${policy}1b`, `${policy}2`];
            assert.equal(await store().count?.(T0 + 2), 2);
            for (const key of live) await loadLive(store(), key, T0 + 2);
            for (const key of live) await store().destroy(key);
          }
        });
      }
    });
  }

  if (!caps.atomicRegenerate) return;

  t.describe('regenerate (replaces)', () => {
    t.it('creates the new record and deletes the old one in the same commit', async () => {
      await create(store(), 'old', [put('a', '"1"'), put('b', '"2"')]);
      const result = await store().commit(
        'new',
        { create: true, replaces: 'old', touch: { lastAccess: T0 + 1, expiresAt: T0 + 61 }, writes: [put('a', '"1"')] },
        T0 + 1,
      );
      assert.deepEqual(result.evicted, []);
      assert.equal(await store().load('old', T0 + 1), undefined);
      const record = await loadLive(store(), 'new', T0 + 1);
      assert.deepEqual(entriesOf(record), { 'app.data › a': ['"1"', 1] });
      assert.deepEqual([record.createdAt, record.expiresAt], [T0 + 1, T0 + 61]);
      assert.equal(await store().destroy('old'), false);
    });

    t.it("fails with ConflictError 'gone' when the replaced record no longer exists, creating nothing", async () => {
      await create(store(), 'dying', [], { expiresAt: T0 + 1 });
      for (const replaces of ['never', 'dying']) {
        const delta: SessionDelta = {
          create: true,
          replaces,
          touch: { lastAccess: T0 + 2, expiresAt: T0 + 62 },
          writes: [],
        };
        await rejectsConflict(store().commit('new', delta, T0 + 2), 'gone');
      }
      assert.equal(await store().load('new', T0 + 2), undefined);
    });

    t.it('two racing regenerates of one record: exactly one wins', async () => {
      await create(store(), 'old', [put('a', '"1"')]);
      const results = await Promise.allSettled(
        ['n1', 'n2', 'n3'].map((key) =>
          store().commit(
            key,
            { create: true, replaces: 'old', touch: { lastAccess: T0, expiresAt: T0 + 60 }, writes: [] },
            T0,
          ),
        ),
      );
      const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [`n${i + 1}`] : []));
      assert.equal(won.length, 1);
      const scanned = [];
      for await (const s of store().scan(T0)) scanned.push(s.key);
      assert.deepEqual(scanned.sort(compare), won);
    });
  });
}
