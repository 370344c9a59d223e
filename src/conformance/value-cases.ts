import { strict as assert } from 'node:assert';
import { collect, create, entriesOf, type Harness, loadLive, put, T0 } from './harness.js';

const AWKWARD_VALUES = [
  '"héllo wörld"',
  '"👩‍👩‍👧‍👦 🏳️‍🌈 𝄞"',
  '"日本語のテキスト"',
  '"مرحبا بالعالم"',
  '"e\u0301 combining"',
  '"quotes \' \\" backslash \\\\ tab\\t newline\\n"',
  "'; DROP TABLE sessions; --",
  '',
  ' ',
];

const AWKWARD_KEYS = ['a.b.c', 'with space', 'ключ', '🔑', "it's", '%_*?[]', '$1', '__proto__', 'constructor'];

/** Values and keys that stress a backend's encoding, quoting and size handling. */
export function valueCases({ t, store, caps }: Harness): void {
  t.describe('values and keys', () => {
    t.it('arbitrary unicode values round-trip exactly', async () => {
      await create(
        store(),
        'k1',
        AWKWARD_VALUES.map((value, i) => put(`v${i}`, value)),
      );
      const entries = entriesOf(await loadLive(store(), 'k1'));
      for (const [i, value] of AWKWARD_VALUES.entries()) assert.deepEqual(entries[`app.data › v${i}`], [value, 1]);
    });

    t.it('large values (100 KB and 1 MB) round-trip exactly', async () => {
      const big = `"${'0123456789abcdef'.repeat(6_400)}✓"`;
      const huge = JSON.stringify('ü'.repeat(1 << 20));
      await create(store(), 'k1', [put('big', big), put('huge', huge)]);
      await store().commit('k1', { create: false, writes: [put('big', `${big} `)] }, T0 + 1);
      const entries = entriesOf(await loadLive(store(), 'k1', T0 + 1));
      assert.deepEqual(entries['app.data › big'], [`${big} `, 2]);
      assert.deepEqual(entries['app.data › huge'], [huge, 1]);
    });

    t.it('package ids and entry keys with dots, spaces, unicode and quotes are kept apart', async () => {
      const pkgs = ['products.cart', 'products', 'products.cart.x', 'pkg with space', 'пакет.🛒'];
      const writes = pkgs.flatMap((pkg) => AWKWARD_KEYS.map((key) => put(key, JSON.stringify(`${pkg}|${key}`), pkg)));
      await create(store(), 'k1', writes);
      const entries = entriesOf(await loadLive(store(), 'k1'));
      assert.equal(Object.keys(entries).length, pkgs.length * AWKWARD_KEYS.length);
      for (const pkg of pkgs) {
        for (const key of AWKWARD_KEYS)
          assert.deepEqual(entries[`${pkg} › ${key}`], [JSON.stringify(`${pkg}|${key}`), 1]);
      }
      await store().commit('k1', { create: false, writes: [put('a.b.c', undefined, 'products.cart')] }, T0 + 1);
      const after = entriesOf(await loadLive(store(), 'k1', T0 + 1));
      assert.equal(after['products.cart › a.b.c'], undefined);
      assert.ok(after['products › a.b.c'] && after['products.cart.x › a.b.c']);
    });

    t.it('record keys with dots, spaces, unicode and wildcards are distinct records', async () => {
      const keys = ['a.b', 'a b', 'a*', 'a%', 'a_', 'a?', 'ключ', '🔑', 'a', 'A', "a'b", 'a:b', 'a{b}'];
      for (const [i, key] of keys.entries()) await create(store(), key, [put('i', `${i}`)]);
      for (const [i, key] of keys.entries()) {
        assert.deepEqual(entriesOf(await loadLive(store(), key)), { 'app.data › i': [`${i}`, 1] });
      }
      assert.equal(await store().destroy('a'), true);
      assert.equal(await store().load('a', T0), undefined);
      assert.ok(await store().load('a*', T0));
      if (!caps.listing) return;
      const scanned = await collect(store().scan(T0));
      assert.deepEqual(new Set(scanned.map((s) => s.key)), new Set(keys.filter((k) => k !== 'a')));
    });
  });
}
