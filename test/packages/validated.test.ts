/**
 * Validated packages (`definePackage` with a Standard Schema per key) over real HTTP through
 * `tsession/http`, with zod, valibot and arktype: valid values are committed, and an invalid
 * one, written in any way (a new value, an in-place mutation, a blind write, a key the
 * definition lacks), fails the request with `SessionValidationError` naming package › key ›
 * path, with nothing written, in any package.
 */
import { createServer } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { withSessions } from '../../src/adapters/http/index.js';
import {
  CookieClientIdManager,
  definePackage,
  jsonCodec,
  SessionConfigError,
  SessionDataContainer,
  SessionManager,
  SessionValidationError,
  type StandardSchema,
} from '../../src/index.js';
import { listen } from '../adapters/support/node.js';
import { CountingStore } from '../adapters/support/store.js';
import { browser, SECRET } from '../helpers.js';
import { type App, cartWith, LIBRARIES, startApp } from './app.js';

let app: App | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

function lastValidationError(target: App): SessionValidationError {
  const error = target.errors.at(-1);
  expect(error).toBeInstanceOf(SessionValidationError);
  return error as SessionValidationError;
}

describe.each(LIBRARIES)('a package validated with %s', (library) => {
  it('commits valid values and reads them back', async () => {
    const store = new CountingStore();
    app = await startApp(store, cartWith(library));
    const first = await app.get('/add?item=apple');
    expect(first).toMatchObject({ status: 200, body: '{"items":["apple"]}' });
    expect(await app.get('/coupon?c=SAVE', first.cookie)).toMatchObject({ status: 200 });
    expect((await app.get('/read', first.cookie)).body).toBe('{"items":["apple"],"coupon":"SAVE"}');
    expect(app.errors).toEqual([]);
  });

  it('refuses an invalid new value with package › key › path, writing nothing', async () => {
    const store = new CountingStore();
    app = await startApp(store, cartWith(library));
    const fresh = await app.get('/add?item=');
    expect(fresh.status).toBe(500);
    expect(fresh.cookie).toBeUndefined();
    expect(store.commits).toBe(0);
    const error = lastValidationError(app);
    expect(error).toMatchObject({ code: 'TSESSION_VALIDATION', status: 500, stored: false });
    expect(error.path).toEqual(['shop.cart', 'items', 0]);
    expect(error.message).toContain('shop.cart › items › 0');

    const { cookie } = await app.get('/add?item=apple');
    const commits = store.commits;
    expect((await app.get('/add?item=', cookie)).status).toBe(500);
    expect(lastValidationError(app).path).toEqual(['shop.cart', 'items', 1]);
    expect(await app.get('/coupon?c=lower', cookie)).toMatchObject({ status: 500 });
    expect(lastValidationError(app).path).toEqual(['shop.cart', 'coupon']);
    expect(store.commits).toBe(commits);
    expect((await app.get('/read', cookie)).body).toBe('{"items":["apple"]}');
  });

  it('refuses a value made invalid in place, and an array past its bound', async () => {
    const store = new CountingStore();
    app = await startApp(store, cartWith(library));
    const { cookie } = await app.get('/add?item=a');
    expect((await app.get('/push?item=', cookie)).status).toBe(500);
    expect(lastValidationError(app).path).toEqual(['shop.cart', 'items', 1]);
    for (const item of ['b', 'c']) expect((await app.get(`/push?item=${item}`, cookie)).status).toBe(200);
    expect((await app.get('/push?item=d', cookie)).status).toBe(500);
    expect(lastValidationError(app).path).toEqual(['shop.cart', 'items']);
    expect((await app.get('/read', cookie)).body).toBe('{"items":["a","b","c"]}');
  });

  it('validates blind writes before their one round trip', async () => {
    const store = new CountingStore();
    app = await startApp(store, cartWith(library));
    expect((await app.get('/blind?item=')).status).toBe(500);
    expect(lastValidationError(app).path).toEqual(['shop.cart', 'items', 0]);
    expect(store.calls).toBe(0);
    const ok = await app.get('/blind?item=pear');
    expect(ok.status).toBe(200);
    expect((await app.get('/read', ok.cookie)).body).toBe('{"items":["pear"]}');
  });

  it('refuses a key the definition does not declare, also through the package id', async () => {
    const store = new CountingStore();
    app = await startApp(store, cartWith(library));
    expect((await app.get('/undeclared')).status).toBe(500);
    const error = lastValidationError(app);
    expect(error.path).toEqual(['shop.cart', 'other']);
    expect(error.message).toContain('not declared');
    expect(store.commits).toBe(0);
  });

  it('writes nothing of any package when one value is invalid', async () => {
    const store = new CountingStore();
    app = await startApp(store, cartWith(library));
    const { cookie } = await app.get('/add?item=apple');
    const commits = store.commits;
    expect((await app.get('/mixed?item=', cookie)).status).toBe(500);
    expect(store.commits).toBe(commits);
    expect((await app.get('/mixed?item=kiwi', cookie)).status).toBe(200);
    const record = await store.inner.load(cookie!.split('=')[1]!.split('.')[0]!, Date.now() / 1000);
    expect(record?.entries.map((e) => `${e.pkg}/${e.key}`).sort()).toEqual(['shop.cart/items', 'shop.notes/note']);
  });
});

describe('package definitions', () => {
  it('refuse an async schema at validate time with a typed error, writing nothing', async () => {
    const asyncSchema: StandardSchema<string[]> = {
      '~standard': { version: 1, vendor: 'test', validate: async (value) => ({ value: value as string[] }) },
    };
    const store = new CountingStore();
    app = await startApp(store, definePackage('shop.cart', { items: asyncSchema, coupon: asyncSchema }));
    expect((await app.get('/add?item=apple')).status).toBe(500);
    expect(lastValidationError(app).message).toContain('asynchronously');
    expect(store.commits).toBe(0);
  });

  it('refuse a schema that answers with any thenable, not only a Promise', async () => {
    const thenable: StandardSchema<string[]> = {
      '~standard': {
        version: 1,
        vendor: 'test',
        // biome-ignore lint/suspicious/noThenProperty: a thenable that is not a Promise is the point
        validate: (value) => ({ then: (done: (r: unknown) => void) => done({ value }) }) as never,
      },
    };
    const store = new CountingStore();
    app = await startApp(store, definePackage('shop.cart', { items: thenable, coupon: thenable }));
    expect((await app.get('/blind?item=apple')).status).toBe(500);
    expect(lastValidationError(app).message).toContain('asynchronously');
    expect(store.calls).toBe(0);
  });

  it('refuse schemas that are not Standard Schemas, and a bad policy, at definition', () => {
    expect(() => definePackage('p', { a: {} as StandardSchema })).toThrow(SessionConfigError);
    expect(() => definePackage('p', { a: { '~standard': {} } as StandardSchema })).toThrow(/Standard Schema/);
    expect(() => definePackage('', {})).toThrow(SessionConfigError);
    expect(() => definePackage('p', {}, { onInvalid: 'ignore' as 'drop' })).toThrow(/onInvalid/);
  });

  it('are checked by the manager: definitions only, each id once', () => {
    const base = {
      clientIds: new CookieClientIdManager({ secret: SECRET }),
      container: new SessionDataContainer({ store: new CountingStore(), sweepIntervalSeconds: 0 }),
    };
    const cart = cartWith('zod');
    expect(() => new SessionManager({ ...base, packages: [cart, cartWith('valibot')] })).toThrow(/defined twice/);
    expect(() => new SessionManager({ ...base, packages: [{ id: 'x' } as never] })).toThrow(SessionConfigError);
    expect(() => new SessionManager({ ...base, packages: [definePackage('tsession:internal', {})] })).toThrow(
      /reserved/,
    );
    expect(() => new SessionManager({ ...base, packages: [definePackage('a\0b', {})] })).toThrow(SessionConfigError);
    expect(() => new SessionManager({ ...base, packages: [cart] })).not.toThrow();
  });

  it('must be given to the manager that serves them', async () => {
    const manager = new SessionManager({
      clientIds: new CookieClientIdManager({ secret: SECRET }),
      container: new SessionDataContainer({ store: new CountingStore(), sweepIntervalSeconds: 0 }),
    });
    const errors: unknown[] = [];
    const cart = cartWith('zod');
    const running = await listen(
      createServer(
        withSessions(manager, async (req, res) => res.end(JSON.stringify((await req.session.get(cart)).toJSON())), {
          onError: (error) => errors.push(error),
        }),
      ),
    );
    try {
      expect((await fetch(running.url)).status).toBe(500);
      expect(errors[0]).toBeInstanceOf(SessionConfigError);
      expect((errors[0] as Error).message).toContain('packages');
    } finally {
      await running.close();
    }
  });
});

describe('packages without a definition', () => {
  it('stay lazy beside validated ones: only the values read are decoded, and nothing is validated', async () => {
    const decoded: string[] = [];
    const codec = {
      encode: (value: unknown, path: readonly string[]) => jsonCodec.encode(value, path),
      decode: (text: string) => {
        decoded.push(text);
        return jsonCodec.decode(text);
      },
    };
    let validations = 0;
    const counted: StandardSchema<number> = {
      '~standard': {
        version: 1,
        vendor: 'test',
        validate: (value) => {
          validations++;
          return { value: value as number };
        },
      },
    };
    const manager = new SessionManager({
      clientIds: new CookieClientIdManager({ secret: SECRET }),
      container: new SessionDataContainer({ store: new CountingStore(), sweepIntervalSeconds: 0, codec }),
      packages: [definePackage('app.checked', { a: counted, b: counted })],
    });
    const client = browser(manager);
    await client.visit(async (session) => {
      const free = await session.get('app.free');
      for (const key of ['a', 'b', 'c']) free.set(key, 1);
      const checked = await session.get('app.checked');
      checked.set('a', 1);
      checked.set('b', 2);
    });
    expect(validations).toBe(2);
    decoded.length = 0;
    validations = 0;
    await client.visit(async (session) => {
      expect((await session.get('app.free')).get('b')).toBe(1);
    });
    expect([decoded.length, validations]).toEqual([1, 0]);
    await client.visit(async (session) => {
      expect((await session.get('app.checked')).size).toBe(2);
    });
    // A validated package decodes and validates every stored value when it opens.
    expect([decoded.length, validations]).toEqual([3, 2]);
  });
});
