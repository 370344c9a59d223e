import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import type { SessionStore } from '../../src/index.js';
import { exportSessions, importSessions } from '../../src/transfer/index.js';
import { everyStore, type StoreKind } from '../support/every-store.js';

const NOW = 1_700_000_000;
/** Store keys of the form signed ids have (24 base64url characters): import refuses any other. */
const K_ONE = 'k-one'.padEnd(24, '_');
const K_TWO = 'k-two'.padEnd(24, '_');
const { kinds, cleanup } = await everyStore('xstore');
const opened: SessionStore[] = [];
/** The available stores by short name: memory, sqlite, redis, postgres. */
const byName = new Map(kinds.filter((k) => k.available).map((k) => [k.name.replace('Store', '').toLowerCase(), k]));
const names = [...byName.keys()];

async function open(name: string): Promise<SessionStore> {
  const store = await (byName.get(name) as StoreKind).open();
  opened.push(store);
  return store;
}

async function exported(store: SessionStore): Promise<string[]> {
  const lines: string[] = [];
  for await (const line of exportSessions(store, NOW)) lines.push(line);
  return lines.sort();
}

/** Sessions written in an order no store keeps them in, with non-ASCII ids and keys, created long before now. */
async function fill(store: SessionStore): Promise<void> {
  const writes = ['zeta', 'Ω', 'alpha', 'b', '😀', 'a', 'é', 'ｚ'].flatMap((key, i) => [
    { pkg: i % 2 === 0 ? 'shop.cart' : 'app.prefs', key, value: JSON.stringify(`${key}-${i}`) },
    { pkg: '日本', key, value: String(i) },
  ]);
  await store.commit(
    K_ONE,
    { create: true, createdAt: NOW - 86_400, touch: { lastAccess: NOW - 10, expiresAt: NOW + 3600 }, writes },
    NOW - 10,
  );
  await store.commit(
    K_TWO,
    { create: true, createdAt: NOW - 5, touch: { lastAccess: NOW - 5, expiresAt: null }, writes: writes.slice(3, 6) },
    NOW - 5,
  );
}

describe('export from one store, import into another, export again: the same lines, createdAt included', () => {
  afterAll(async () => {
    await Promise.all(opened.map((s) => s.close()));
    await cleanup();
  });

  for (const from of names) {
    for (const to of names) {
      if (from === to) continue;
      it(`${from} -> ${to}`, async () => {
        const source = await open(from);
        await fill(source);
        const first = await exported(source);
        expect(first).toHaveLength(2);
        const target = await open(to);
        const report = await importSessions(target, Readable.from(first.join('')), { now: NOW });
        expect(report).toMatchObject({ imported: 2, skipped: 0, problems: [] });
        expect(await exported(target)).toEqual(first);
        const one = JSON.parse(first.find((l) => l.includes(`"${K_ONE}"`)) as string);
        expect(one.createdAt).toBe(NOW - 86_400);
        // Canonical order: package id, then key, by code point (so '😀', U+1F600, sorts after 'ｚ', U+FF5A,
        // where UTF-16 code units would put it first).
        const order = one.entries.map((e: { pkg: string; key: string }) => `${e.pkg}/${e.key}`);
        const cjk = ['a', 'alpha', 'b', 'zeta', 'é', 'Ω', 'ｚ', '😀'].map((k) => `日本/${k}`);
        expect(order).toEqual([
          ...['a', 'b', 'Ω', 'ｚ'].map((k) => `app.prefs/${k}`),
          ...['alpha', 'zeta', 'é', '😀'].map((k) => `shop.cart/${k}`),
          ...cjk,
        ]);
      });
    }
  }
});
