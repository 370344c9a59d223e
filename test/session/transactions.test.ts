import { describe, expect, it } from 'vitest';
import {
  ConflictError,
  SessionDataContainer,
  SessionSerializationError,
  SessionStateError,
  SessionTooLargeError,
} from '../../src/index.js';
import { MemoryStore } from '../../src/stores/memory/index.js';
import { browser, countCalls, keyOf, manualClock, memoryManager, request } from '../helpers.js';

/** A manager with a second container for `shop.cart`, and call counters on both stores. */
function twoContainers(options: { maxSessionBytes?: number } = {}) {
  const clock = manualClock();
  const cartStore = new MemoryStore({ sweepIntervalSeconds: 0 });
  const cart = new SessionDataContainer({ store: cartStore, clock, ...options });
  const setup = memoryManager({ clock, containers: { 'shop.cart': cart } });
  return { ...setup, cartStore, calls: countCalls(setup.store), cartCalls: countCalls(cartStore) };
}

async function snapshot(client: ReturnType<typeof browser>) {
  return (
    await client.visit(async (s) => ({
      cart: (await s.get('shop.cart')).toJSON(),
      prefs: (await s.get('prefs')).toJSON(),
      other: (await s.get('other')).toJSON(),
    }))
  ).result;
}

describe('SPEC 31-38: transactions', () => {
  it('SPEC 31: all changes across packages and two containers go out in one commit per store', async () => {
    const { manager, calls, cartCalls } = twoContainers();
    const client = browser(manager);
    await client.visit(async (s) => {
      (await s.get('shop.cart')).set('items', ['apple']);
      (await s.get('prefs')).set('theme', 'dark');
      (await s.get('other')).set('x', 1);
    });
    expect([calls.commit, cartCalls.commit]).toEqual([1, 1]);
    expect(await snapshot(client)).toEqual({ cart: { items: ['apple'] }, prefs: { theme: 'dark' }, other: { x: 1 } });
  });

  it('SPEC 32: abort() writes nothing and sends no header; the session refuses further writes', async () => {
    const { manager, calls, cartCalls } = twoContainers();
    const client = browser(manager);
    await client.visit(async (s) => (await s.get('prefs')).set('theme', 'dark'));
    calls.commit = 0;

    const session = client.open();
    const prefs = await session.get('prefs');
    prefs.set('theme', 'light');
    (await session.get('shop.cart')).set('items', ['pear']);
    session.invalidate();
    session.abort();
    expect(session.responseHeaders).toEqual([]);
    expect(() => prefs.set('theme', 'blue')).toThrow(SessionStateError);
    await expect(session.commit()).rejects.toThrow(SessionStateError);
    expect([calls.commit, calls.destroy, cartCalls.commit, cartCalls.destroy]).toEqual([0, 0, 0, 0]);
    expect(await snapshot(client)).toEqual({ cart: {}, prefs: { theme: 'dark' }, other: {} });
  });

  it('SPEC 33: an unserializable value fails the commit naming products.foo › oops › handle; nothing is written', async () => {
    const { manager, calls, cartCalls } = twoContainers();
    const client = browser(manager);
    await client.visit(async (s) => (await s.get('prefs')).set('theme', 'dark'));
    calls.commit = 0;

    const session = client.open();
    (await session.get('prefs')).set('theme', 'light');
    (await session.get('shop.cart')).set('items', ['pear']);
    (await session.get('products.foo')).set('oops', { ok: 1, nested: { fine: true }, handle: () => {} });
    const failure = session.commit();
    await expect(failure).rejects.toThrow(SessionSerializationError);
    await expect(failure).rejects.toThrow(TypeError);
    await expect(failure).rejects.toThrow(/products\.foo › oops › handle/);
    expect(session.responseHeaders).toEqual([]);
    expect([calls.commit, cartCalls.commit]).toEqual([0, 0]);
    expect(await snapshot(client)).toEqual({ cart: {}, prefs: { theme: 'dark' }, other: {} });

    for (const bad of [Symbol('s'), new (class Widget {})(), cyclic()]) {
      const s = client.open();
      (await s.get('prefs')).set('theme', 'light');
      (await s.get('products.foo')).set('oops', bad);
      await expect(s.commit()).rejects.toBeInstanceOf(SessionSerializationError);
    }
    expect([calls.commit, cartCalls.commit]).toEqual([0, 0]);

    const fresh = manager.open(request());
    (await fresh.get('products.foo')).set('oops', () => {});
    await expect(fresh.commit()).rejects.toThrow(SessionSerializationError);
    expect(fresh.responseHeaders).toEqual([]);
  });

  it('SPEC 35: two concurrent requests writing different keys both keep their changes', async () => {
    const { manager } = memoryManager();
    const client = browser(manager);
    await client.visit(async (s) => (await s.get('p')).set('a', 0).set('b', 0));
    const one = client.open();
    const two = client.open();
    const d1 = await one.get('p');
    const d2 = await two.get('p');
    d1.set('a', (d1.get('a') as number) + 1);
    d2.set('b', (d2.get('b') as number) + 2);
    (await two.get('q')).set('new', true);
    await two.commit();
    await one.commit();
    const { result } = await client.visit(async (s) => [(await s.get('p')).toJSON(), (await s.get('q')).toJSON()]);
    expect(result).toEqual([{ a: 1, b: 2 }, { new: true }]);
  });

  it('SPEC 36: two requests that read then write the same key: the later commit fails with ConflictError', async () => {
    const { manager } = memoryManager();
    const client = browser(manager);
    await client.visit(async (s) => (await s.get('counter')).set('count', 1));
    const one = client.open();
    const two = client.open();
    for (const s of [one, two]) {
      const data = await s.get('counter');
      data.set('count', (data.get('count') as number) + 1);
    }
    (await one.get('other')).set('changed', true);
    await two.commit();
    const failure = one.commit();
    await expect(failure).rejects.toBeInstanceOf(ConflictError);
    await expect(failure).rejects.toMatchObject({ reason: 'version', keys: ['counter › count'], status: 409 });
    expect(one.responseHeaders).toEqual([]);
    const { result } = await client.visit(async (s) => [
      (await s.get('counter')).get('count'),
      (await s.get('other')).get('changed'),
    ]);
    expect(result).toEqual([2, undefined]);
  });

  it('SPEC 36: a blind write (set without get) does not conflict; neither does a read-only request', async () => {
    const { manager } = memoryManager();
    const client = browser(manager);
    await client.visit(async (s) => (await s.get('counter')).set('count', 1));
    const reader = client.open();
    const blind = client.open();
    const writer = client.open();
    expect((await reader.get('counter')).get('count')).toBe(1);
    (await blind.get('counter')).set('count', 10);
    const data = await writer.get('counter');
    data.set('count', (data.get('count') as number) + 1);
    await writer.commit();
    await blind.commit();
    await reader.commit();
    expect((await client.visit(async (s) => (await s.get('counter')).get('count'))).result).toBe(10);
  });

  it('SPEC 37: invalidate is final: a slower concurrent request cannot bring the session back', async () => {
    const { manager, store } = memoryManager();
    const client = browser(manager);
    const { session: first } = await client.visit(async (s) => (await s.get('auth')).set('user', 'alice'));
    const key = keyOf(first.clientId);
    const oldCookie = client.cookie as string;

    const slowWriter = client.open();
    const slowReader = client.open();
    (await slowWriter.get('auth')).set('user', 'mallory');
    expect((await slowReader.get('auth')).get('user')).toBe('alice');

    await client.visit((s) => s.invalidate());
    await expect(slowWriter.commit()).rejects.toMatchObject({ name: 'ConflictError', reason: 'gone' });
    await slowReader.commit();
    expect(await store.load(key, 1_000)).toBeUndefined();
    const replay = manager.open(request({ cookie: oldCookie }));
    expect(await replay.peek('auth')).toBeUndefined();
  });

  it('SPEC 38: a session over maxSessionBytes fails with SessionTooLargeError and writes nothing', async () => {
    const { manager, store } = memoryManager({ container: { maxSessionBytes: 100 } });
    const calls = countCalls(store);
    const client = browser(manager);
    await client.visit(async (s) => (await s.get('p')).set('a', 'x'.repeat(50)));
    expect(calls.commit).toBe(1);

    const session = client.open();
    (await session.get('p')).set('b', 'y'.repeat(50));
    (await session.get('q')).set('c', 1);
    const failure = session.commit();
    await expect(failure).rejects.toBeInstanceOf(SessionTooLargeError);
    await expect(failure).rejects.toMatchObject({ code: 'TSESSION_TOO_LARGE', limit: 100 });
    expect(calls.commit).toBe(1);
    const { result } = await client.visit(async (s) => [(await s.get('p')).toJSON(), (await s.get('q')).toJSON()]);
    expect(result).toEqual([{ a: 'x'.repeat(50) }, {}]);

    // shrinking is allowed
    await client.visit(async (s) => (await s.get('p')).set('a', 'small').set('b', 'y'.repeat(50)));
    expect((await client.visit(async (s) => (await s.get('p')).size)).result).toBe(2);
  });

  it('SPEC 38: a read-only request of a session over a lowered limit still refreshes L', async () => {
    const clock = manualClock(1_000);
    const store = new MemoryStore({ sweepIntervalSeconds: 0 });
    const before = memoryManager({ clock, store });
    const client = browser(before.manager);
    const { session } = await client.visit(async (s) => (await s.get('p')).set('a', 'x'.repeat(200)));
    const lowered = memoryManager({ clock, store, container: { maxSessionBytes: 100 } });
    clock.advance(700);
    const reader = lowered.manager.open(request({ cookie: client.cookie as string }));
    expect((await reader.get('p')).get('a')).toHaveLength(200);
    await reader.commit();
    expect((await store.load(keyOf(session.clientId), clock()))?.lastAccess).toBe(1_700);
    const writer = lowered.manager.open(request({ cookie: client.cookie as string }));
    (await writer.get('p')).set('b', 1);
    await expect(writer.commit()).rejects.toBeInstanceOf(SessionTooLargeError);
  });

  it('SPEC 38: one container over its limit fails the whole commit: the other container is not written', async () => {
    const { manager, calls, cartCalls } = twoContainers({ maxSessionBytes: 50 });
    const client = browser(manager);
    await client.visit(async (s) => (await s.get('prefs')).set('theme', 'dark'));
    calls.commit = 0;
    const failure = client.visit(async (s) => {
      (await s.get('prefs')).set('theme', 'light');
      (await s.get('shop.cart')).set('items', ['z'.repeat(100)]);
    });
    await expect(failure).rejects.toBeInstanceOf(SessionTooLargeError);
    expect([calls.commit, cartCalls.commit]).toEqual([0, 0]);
    expect(await snapshot(client)).toEqual({ cart: {}, prefs: { theme: 'dark' }, other: {} });
  });

  it('SPEC 38: a too-large write after invalidate() does not destroy the old session', async () => {
    const { manager, store } = memoryManager({ container: { maxSessionBytes: 50 } });
    const client = browser(manager);
    const { session } = await client.visit(async (s) => (await s.get('auth')).set('user', 'alice'));
    const failure = client.visit(async (s) => {
      s.invalidate();
      (await s.get('flash')).set('message', 'm'.repeat(100));
    });
    await expect(failure).rejects.toBeInstanceOf(SessionTooLargeError);
    expect((await store.load(keyOf(session.clientId), 1_000))?.entries).toHaveLength(1);
  });
});

function cyclic(): unknown {
  const a: Record<string, unknown> = {};
  a.a = a;
  return a;
}
