import { describe, expect, it } from 'vitest';
import { SessionDataContainer, SessionStateError } from '../../src/index.js';
import { MemoryStore } from '../../src/stores/memory/index.js';
import { browser, cookieFrom, countCalls, keyOf, manualClock, memoryManager, request } from '../helpers.js';

describe('SPEC 18-21: mutation, clear, invalidate, regenerate, unknown ids', () => {
  it('SPEC 18: mutating a stored object in place is saved at commit without re-assignment', async () => {
    const { manager } = memoryManager();
    const client = browser(manager);
    await client.visit(async (s) => (await s.get('app.cart')).set('cart', { items: ['apple'], total: { n: 1 } }));
    await client.visit(async (s) => {
      const cart = (await s.get('app.cart')).get('cart') as { items: string[]; total: { n: number } };
      cart.items.push('pear');
      cart.total.n = 2;
    });
    const { result } = await client.visit(async (s) => (await s.get('app.cart')).get('cart'));
    expect(result).toEqual({ items: ['apple', 'pear'], total: { n: 2 } });

    await client.visit(async (s) => {
      for (const [, value] of await s.get('app.cart')) (value as { items: string[] }).items.pop();
    });
    const after = await client.visit(async (s) => (await s.get('app.cart')).get('cart'));
    expect(after.result).toEqual({ items: ['apple'], total: { n: 2 } });
  });

  it('SPEC 18: reading an object without changing it writes nothing', async () => {
    const { manager, store } = memoryManager();
    const client = browser(manager);
    await client.visit(async (s) => (await s.get('app.cart')).set('cart', { items: ['apple'] }));
    const calls = countCalls(store);
    await client.visit(async (s) => [...(await s.get('app.cart')).values()]);
    expect(calls.commit).toBe(0);
  });

  it('SPEC 19: session.clear() empties every package of this client, in every container', async () => {
    const clock = manualClock();
    const cartContainer = new SessionDataContainer({ store: new MemoryStore({ sweepIntervalSeconds: 0 }), clock });
    const { manager } = memoryManager({ clock, containers: { 'app.cart': cartContainer } });
    const client = browser(manager);
    await client.visit(async (s) => {
      (await s.get('app.cart')).set('items', ['apple']);
      (await s.get('prefs')).set('theme', 'dark');
    });
    await client.visit(async (s) => {
      const prefs = await s.get('prefs');
      await s.clear();
      expect(prefs.size).toBe(0);
      expect((await s.get('app.cart')).size).toBe(0);
      (await s.get('prefs')).set('lang', 'fr');
    });
    const { result } = await client.visit(async (s) => [
      (await s.get('app.cart')).toJSON(),
      (await s.get('prefs')).toJSON(),
    ]);
    expect(result).toEqual([{}, { lang: 'fr' }]);
  });

  it('SPEC 19: invalidate() deletes the data and forgets the id; later reads in the request are empty', async () => {
    const { manager, store } = memoryManager();
    const client = browser(manager);
    const { result: oldId } = await client.visit(async (s) => {
      (await s.get('counter')).set('count', 5);
      return s.clientId;
    });
    const oldCookie = client.cookie as string;

    const session = client.open();
    const before = await session.get('counter');
    expect(before.get('count')).toBe(5);
    session.invalidate();
    const after = await session.get('counter');
    expect(after).not.toBe(before);
    expect(after.get('count')).toBeUndefined();
    expect(() => before.set('count', 6)).toThrow(SessionStateError);
    expect(session.idSource).toBeUndefined();
    await session.commit();
    expect(await store.load(keyOf(oldId), 1_000)).toBeUndefined();
    client.receive(session.responseHeaders);
    expect(client.cookie).toBeUndefined();

    const replay = manager.open(request({ cookie: oldCookie }));
    expect((await replay.get('counter')).get('count')).toBeUndefined();
  });

  it('SPEC 19: a write after invalidate() in the same request starts a new session under a fresh id', async () => {
    const { manager } = memoryManager();
    const client = browser(manager);
    const { result: oldId } = await client.visit(async (s) => {
      (await s.get('auth')).set('user', 'alice');
      return s.clientId;
    });
    const { result: newId, headers } = await client.visit(async (s) => {
      s.invalidate();
      (await s.get('flash')).set('message', 'logged out');
      return s.clientId;
    });
    expect(newId).not.toBe(oldId);
    expect(cookieFrom(headers)).toBe(`tsession=${newId}`);
    const { result } = await client.visit(async (s) => [
      (await s.get('auth')).get('user'),
      (await s.get('flash')).get('message'),
    ]);
    expect(result).toEqual([undefined, 'logged out']);
  });

  it('SPEC 20: regenerate() moves the data to a fresh id and the old id then reads empty', async () => {
    const clock = manualClock();
    const cartContainer = new SessionDataContainer({ store: new MemoryStore({ sweepIntervalSeconds: 0 }), clock });
    const { manager, store } = memoryManager({ clock, containers: { 'app.cart': cartContainer } });
    const client = browser(manager);
    const { result: oldId } = await client.visit(async (s) => {
      (await s.get('app.cart')).set('items', ['apple']);
      (await s.get('prefs')).set('theme', 'dark');
      return s.clientId;
    });
    const oldCookie = client.cookie as string;

    const { result: newId, headers } = await client.visit(async (s) => {
      await s.regenerate();
      (await s.get('auth')).set('user', 'alice');
      return s.clientId;
    });
    expect(newId).not.toBe(oldId);
    expect(keyOf(newId)).not.toBe(keyOf(oldId));
    expect(cookieFrom(headers)).toBe(`tsession=${newId}`);
    expect(await store.load(keyOf(oldId), 1_000)).toBeUndefined();
    expect(await cartContainer.store.load(keyOf(oldId), 1_000)).toBeUndefined();

    const { result } = await client.visit(async (s) => [
      (await s.get('app.cart')).get('items'),
      (await s.get('prefs')).get('theme'),
      (await s.get('auth')).get('user'),
    ]);
    expect(result).toEqual([['apple'], 'dark', 'alice']);

    const old = manager.open(request({ cookie: oldCookie }));
    expect((await old.get('app.cart')).size).toBe(0);
    expect((await old.get('prefs')).size).toBe(0);
  });

  it('SPEC 20: regenerate({ keepData: false }) drops the data and issues a fresh id on the next write', async () => {
    const { manager, store } = memoryManager();
    const client = browser(manager);
    const { result: oldId } = await client.visit(async (s) => {
      (await s.get('auth')).set('user', 'alice');
      return s.clientId;
    });
    const { result: newId } = await client.visit(async (s) => {
      await s.regenerate({ keepData: false });
      expect((await s.get('auth')).size).toBe(0);
      (await s.get('auth')).set('user', 'bob');
      return s.clientId;
    });
    expect(keyOf(newId)).not.toBe(keyOf(oldId));
    expect(await store.load(keyOf(oldId), 1_000)).toBeUndefined();
    const { result } = await client.visit(async (s) => (await s.get('auth')).get('user'));
    expect(result).toBe('bob');
  });

  it('SPEC 21: an id with a valid signature whose record is gone is never adopted: a write issues a fresh id', async () => {
    const { manager, store } = memoryManager();
    const client = browser(manager);
    const { result: oldId } = await client.visit(async (s) => {
      (await s.get('p')).set('k', 1);
      return s.clientId;
    });
    await store.destroy(keyOf(oldId));

    const reader = client.open();
    expect((await reader.get('p')).get('k')).toBeUndefined();
    await reader.commit();
    expect(reader.responseHeaders).toEqual([]);

    const { headers, session } = await client.visit(async (s) => (await s.get('p')).set('k', 2));
    const fresh = cookieFrom(headers);
    expect(fresh).toBe(`tsession=${session.clientId}`);
    expect(keyOf(session.clientId)).not.toBe(keyOf(oldId));
    expect(session.isNew).toBe(true);
    expect(await store.load(keyOf(oldId), 1_000)).toBeUndefined();

    // an id handed out earlier but never used to store anything is not adopted either
    const asked = manager.open(request());
    const unused = asked.clientId;
    const later = manager.open(request({ cookie: `tsession=${unused}` }));
    (await later.get('p')).set('k', 3);
    await later.commit();
    expect(keyOf(later.clientId)).not.toBe(keyOf(unused));
  });
});
