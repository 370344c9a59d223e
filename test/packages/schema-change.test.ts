/**
 * A deploy that changes a package's schema, over the same store, on every store: version 1
 * of the app stores a cart of item names, version 2 declares items as objects. Stored values
 * that no longer validate are dropped (deleted in the store, reported to the hook), or fail
 * the request with nothing written, or are migrated by a transform and stored as migrated.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  definePackage,
  type InvalidPolicy,
  type InvalidStoredValue,
  type SessionStore,
  SessionValidationError,
} from '../../src/index.js';
import { everyStore } from '../support/every-store.js';
import { type App, cartWith, startApp } from './app.js';

const { kinds, cleanup } = await everyStore('schema');
const opened: SessionStore[] = [];
const apps: App[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});
afterAll(async () => {
  for (const store of opened) await store.close();
  await cleanup();
});
/** Per store kind: `open(label)` twice gives two app processes' stores over the same data. */
const stores = kinds.map((kind) => [kind.name, kind.available, kind.open] as const);

const item = z.object({ sku: z.string(), qty: z.number().int().positive() });
const coupon = z.string().regex(/^[A-Z]+$/);

/** Version 2's cart: items are objects now; the coupon is unchanged. */
function cartV2(onInvalid?: InvalidPolicy) {
  return definePackage('shop.cart', { items: z.array(item), coupon }, onInvalid === undefined ? {} : { onInvalid });
}

describe.each(stores)('a schema change between two app versions on %s', (name, available, open) => {
  /** Version 1 and version 2 of the app, each with its own store object over the same data. */
  async function versions(label: string, v2: ReturnType<typeof cartV2> | ReturnType<typeof cartV2Migrating>) {
    const s1 = await open(label);
    const s2 = await open(label);
    opened.push(s1, s2);
    const v1App = await startApp(s1, cartWith('zod'));
    const v2App = await startApp(s2, v2);
    apps.push(v1App, v2App);
    const { cookie } = await v1App.get('/add?item=apple');
    await v1App.get('/coupon?c=SAVE', cookie);
    return { v1: v1App, v2: v2App, cookie };
  }

  it.skipIf(!available)('drops what no longer validates, deleting it in the store, and tells the hook', async () => {
    const seen: InvalidStoredValue[] = [];
    const { v1, v2, cookie } = await versions(
      `${name.toLowerCase()}_drop`,
      cartV2((invalid) => {
        seen.push(invalid);
        return 'drop';
      }),
    );
    expect(await v2.get('/read', cookie)).toMatchObject({ status: 200, body: '{"coupon":"SAVE"}' });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ pkg: 'shop.cart', key: 'items', value: ['apple'] });
    expect(seen[0]?.issues[0]?.path).toEqual([0]);
    // The drop was committed: version 1, reading the same store, no longer finds the items either.
    expect((await v1.get('/read', cookie)).body).toBe('{"coupon":"SAVE"}');
    expect((await v2.get('/read', cookie)).body).toBe('{"coupon":"SAVE"}');
    expect(seen).toHaveLength(1);
    // Version 2 writes its own shape.
    const added = await v2.get(`/add?json=1&item=${encodeURIComponent('{"sku":"A1","qty":2}')}`, cookie);
    expect(added.status).toBe(200);
    expect(JSON.parse(added.body)).toEqual({ coupon: 'SAVE', items: [{ sku: 'A1', qty: 2 }] });
    expect(v2.errors).toEqual([]);
  });

  it.skipIf(!available)("fails under 'fail', writing nothing, so version 1 still reads its data", async () => {
    const { v1, v2, cookie } = await versions(`${name.toLowerCase()}_fail`, cartV2('fail'));
    expect((await v2.get('/read', cookie)).status).toBe(500);
    const error = v2.errors.at(-1) as SessionValidationError;
    expect(error).toBeInstanceOf(SessionValidationError);
    expect(error).toMatchObject({ code: 'TSESSION_VALIDATION', status: 500, stored: true });
    expect(error.path).toEqual(['shop.cart', 'items', 0]);
    expect(JSON.parse((await v1.get('/read', cookie)).body)).toEqual({ items: ['apple'], coupon: 'SAVE' });
  });

  it.skipIf(!available)('lets a policy function decide per value: here, fail on items', async () => {
    const seen: string[] = [];
    const policy: InvalidPolicy = (invalid) => {
      seen.push(invalid.key);
      return invalid.key === 'items' ? 'fail' : 'drop';
    };
    const { v1, v2, cookie } = await versions(`${name.toLowerCase()}_decide`, cartV2(policy));
    expect((await v2.get('/read', cookie)).status).toBe(500);
    expect(seen).toEqual(['items']);
    expect((v2.errors.at(-1) as SessionValidationError).stored).toBe(true);
    expect(JSON.parse((await v1.get('/read', cookie)).body)).toEqual({ items: ['apple'], coupon: 'SAVE' });
  });

  it.skipIf(!available)('migrates with a transform, storing the migrated value once read', async () => {
    const { v2, cookie } = await versions(`${name.toLowerCase()}_migrate`, cartV2Migrating());
    const migrated = { items: [{ sku: 'apple', qty: 1 }], coupon: 'SAVE' };
    expect(JSON.parse((await v2.get('/read', cookie)).body)).toEqual(migrated);
    // A strict version 2 (no transform) over the same store sees the migrated value as stored.
    const strict = await startApp(await open(`${name.toLowerCase()}_migrate`), cartV2('fail'));
    apps.push(strict);
    const read = await strict.get('/read', cookie);
    expect(read.status).toBe(200);
    expect(JSON.parse(read.body)).toEqual(migrated);
  });
});

/** Version 2 that migrates version 1's item names to objects as it reads them. */
function cartV2Migrating() {
  const legacy = z.array(z.string()).transform((names) => names.map((sku) => ({ sku, qty: 1 })));
  return definePackage('shop.cart', { items: z.union([z.array(item), legacy]), coupon });
}
