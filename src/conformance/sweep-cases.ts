import { strict as assert } from 'node:assert';
import { StoreUnsupportedError } from '../errors.js';
import type { SessionStore } from '../stores/types.js';
import { collect, compare, create, entriesOf, type Harness, loadLive, put, T0 } from './harness.js';

/** Sweep, scan and count; for a store that cannot list, that they say so. */
export function sweepCases({ t, store, caps }: Harness): void {
  if (!caps.listing) {
    unsupportedCases({ t, store, caps });
    return;
  }
  t.describe('sweep', () => {
    t.it('removes exactly the expired records, reports their keys, and resolves the count', async () => {
      const expired = ['e1', 'e2', 'e3', 'e4', 'e5'];
      for (const [i, key] of expired.entries()) {
        await create(store(), key, [put('a', `"${key}"`)], { now: T0 - 5000, expiresAt: T0 - 1000 * i - 0.5 });
      }
      await create(store(), 'at-now', [put('a', '"1"')], { expiresAt: T0 });
      await create(store(), 'later', [put('a', '"2"')], { expiresAt: T0 + 1 });
      await create(store(), 'forever', [put('a', '"3"')], { expiresAt: null });
      const removed: string[] = [];
      const count = await store().sweep(T0, { onRemoved: (keys) => removed.push(...keys) });
      assert.equal(count, 5);
      assert.deepEqual(removed.sort(compare), expired);
      for (const key of ['at-now', 'later', 'forever']) await loadLive(store(), key);
      assert.equal(await store().sweep(T0), 0);
      assert.deepEqual((await collect(store().scan(T0))).map((s) => s.key).sort(compare), [
        'at-now',
        'forever',
        'later',
      ]);
    });

    t.it('sweeps thousands of expired records among live ones, across batches', async () => {
      await fill(
        store(),
        2_500,
        (i) => `dead${i}`,
        (i) => T0 - 10 - (i % 97),
      );
      await fill(
        store(),
        500,
        (i) => `live${i}`,
        (i) => T0 + 10 + (i % 13),
      );
      const removed = new Set<string>();
      const count = await store().sweep(T0, {
        onRemoved: (keys) => {
          for (const key of keys) removed.add(key);
        },
      });
      assert.equal(count, 2_500);
      assert.equal(removed.size, 2_500);
      assert.ok(removed.has('dead0') && removed.has('dead2499') && !removed.has('live0'));
      assert.equal((await collect(store().scan(T0))).length, 500);
      if (caps.limit) assert.equal(await store().count?.(T0), 500);
    });

    t.it('a sweep of a store with nothing expired removes nothing and calls no onRemoved', async () => {
      await create(store(), 'k1', [], { expiresAt: T0 + 1 });
      let calls = 0;
      assert.equal(await store().sweep(T0, { onRemoved: () => calls++ }), 0);
      assert.equal(calls, 0);
      await loadLive(store(), 'k1');
    });
  });

  t.describe('scan', () => {
    t.it('an empty store scans nothing', async () => {
      assert.deepEqual(await collect(store().scan(T0)), []);
    });

    t.it('yields exactly the live records with their keys, over many batches', async () => {
      await fill(store(), 1_200, (i) => `s${String(i).padStart(5, '0')}`, T0 + 60, true);
      await fill(store(), 150, (i) => `x${i}`, T0 - 1);
      const scanned = await collect(store().scan(T0));
      assert.equal(scanned.length, 1_200);
      const keys = scanned.map((s) => s.key);
      assert.equal(new Set(keys).size, 1_200);
      assert.ok(keys.every((k) => k.startsWith('s')));
      const one = scanned.find((s) => s.key === 's00777');
      assert.ok(one);
      assert.deepEqual([one.createdAt, one.lastAccess, one.expiresAt], [T0, T0, T0 + 60]);
      assert.deepEqual(entriesOf(one), { 'app.data › i': ['777', 1], 'other.pkg › k': ['"s00777"', 1] });
    });
  });

  if (!caps.limit) return;

  t.describe('count', () => {
    t.it('counts the live records only', async () => {
      assert.equal(await store().count?.(T0), 0);
      await fill(store(), 7, (i) => `live${i}`, T0 + 5);
      await fill(store(), 3, (i) => `dead${i}`, T0 - 5);
      await create(store(), 'forever', [], { expiresAt: null });
      assert.equal(await store().count?.(T0), 8);
      await store().destroy('live0');
      assert.equal(await store().count?.(T0), 7);
      assert.equal(await store().count?.(T0 + 6), 1);
    });

    t.it('removes nothing: a later sweep still reports every expired key (for onEnd hooks)', async () => {
      // A store that reclaims expired records by itself (Redis TTLs) reports no expiry to sweep.
      if (store().capabilities.selfExpiring) return;
      await fill(
        store(),
        4,
        (i) => `dead${i}`,
        (i) => T0 - 1 - i * 1000,
      );
      await create(store(), 'live', [], { expiresAt: T0 + 1 });
      assert.equal(await store().count?.(T0), 1);
      const removed: string[] = [];
      assert.equal(await store().sweep(T0, { onRemoved: (keys) => removed.push(...keys) }), 4);
      assert.deepEqual(removed.sort(compare), ['dead0', 'dead1', 'dead2', 'dead3']);
    });
  });
}

/** A store that declares `listing: false` refuses to list with a typed error and still keeps its records. */
function unsupportedCases({ t, store }: Harness): void {
  t.describe('sweep, scan and count without listing', () => {
    t.it('throw StoreUnsupportedError and leave every record in place', async () => {
      await create(store(), 'dead', [put('a', '"1"')], { now: T0 - 10, expiresAt: T0 - 5 });
      await create(store(), 'live', [put('a', '"2"')], { expiresAt: T0 + 5 });
      const unsupported = (error: unknown) => error instanceof StoreUnsupportedError;
      await assert.rejects(store().sweep(T0), unsupported);
      await assert.rejects(collect(store().scan(T0)), unsupported);
      const count = store().count;
      if (count) await assert.rejects(count.call(store(), T0), unsupported);
      await loadLive(store(), 'live');
      assert.equal(await store().load('dead', T0), undefined);
    });
  });
}

/** Creates `n` records `keyOf(i)` expiring at `expiresAt(i)`, several at a time. */
async function fill(
  store: SessionStore,
  n: number,
  keyOf: (i: number) => string,
  expiresAt: number | ((i: number) => number),
  withEntries = false,
): Promise<void> {
  const batch = 100;
  for (let start = 0; start < n; start += batch) {
    await Promise.all(
      Array.from({ length: Math.min(batch, n - start) }, (_, j) => {
        const i = start + j;
        const at = typeof expiresAt === 'number' ? expiresAt : expiresAt(i);
        const writes = withEntries ? [put('i', `${i}`), put('k', JSON.stringify(keyOf(i)), 'other.pkg')] : [];
        return create(store, keyOf(i), writes, { now: Math.min(T0, at - 1), expiresAt: at });
      }),
    );
  }
}
