import { describe, expect, it } from 'vitest';
import { PackageData, SessionStateError } from '../../src/index.js';
import { browser, countCalls, memoryManager, request } from '../helpers.js';

describe('SPEC 12-17: the session API', () => {
  it('SPEC 12: packages are independent of each other and per client', async () => {
    const { manager } = memoryManager();
    const alice = browser(manager);
    const bob = browser(manager);
    await alice.visit(async (s) => {
      (await s.get('products.foo')).set('color', 'red');
      (await s.get('products.bar')).set('color', 'blue');
    });
    await bob.visit(async (s) => (await s.get('products.bar')).set('color', 'green'));

    const { result } = await alice.visit(async (s) => [
      (await s.get('products.foo')).get('color'),
      (await s.get('products.bar')).get('color'),
    ]);
    expect(result).toEqual(['red', 'blue']);
    const bobs = await bob.visit(async (s) => [
      (await s.get('products.foo')).get('color'),
      (await s.get('products.bar')).get('color'),
    ]);
    expect(bobs.result).toEqual([undefined, 'green']);
  });

  it('SPEC 13: two calls for the same package id in one request return the same object', async () => {
    const { manager } = memoryManager();
    const client = browser(manager);
    await client.visit(async (s) => (await s.get('products.foo')).set('color', 'red'));
    const session = client.open();
    const [a, b] = await Promise.all([session.get('products.foo'), session.get('products.foo')]);
    const c = await session.get('products.foo');
    const peeked = await session.peek('products.foo');
    expect(a).toBeInstanceOf(PackageData);
    expect(b).toBe(a);
    expect(c).toBe(a);
    expect(peeked).toBe(a);
    expect(await session.get('products.bar')).not.toBe(a);
  });

  it('SPEC 14: peek never creates: no store write, no cookie; an empty created package is never written', async () => {
    const { manager, store } = memoryManager();
    const calls = countCalls(store);
    const session = manager.open(request());
    expect(await session.peek('not.there')).toBeUndefined();
    await session.commit();
    expect(session.responseHeaders).toEqual([]);
    expect(calls).toEqual({ load: 0, commit: 0, destroy: 0 });

    const client = browser(manager);
    await client.visit(async (s) => (await s.get('products.foo')).set('color', 'red'));
    calls.commit = 0;
    const known = await client.visit(async (s) => {
      expect(await s.peek('not.there')).toBeUndefined();
      return (await s.peek('products.foo'))?.get('color');
    });
    expect(known.result).toBe('red');
    expect(known.headers).toEqual([]);
    expect(calls.commit).toBe(0);

    const empty = manager.open(request());
    const data = await empty.get('created.empty');
    expect(data.size).toBe(0);
    await empty.commit();
    expect(empty.responseHeaders).toEqual([]);
    expect(calls.commit).toBe(0);
    const emptied = await client.visit(async (s) => {
      (await s.get('left.empty')).set('k', 1).delete('k');
    });
    expect(emptied.headers).toEqual([]);
    expect(calls.commit).toBe(0);
  });

  it('SPEC 15: package data is Map-like', async () => {
    const { manager } = memoryManager();
    const client = browser(manager);
    await client.visit(async (s) => {
      const data = await s.get('map.like');
      expect(data.get('missing')).toBeUndefined();
      expect(data.has('missing')).toBe(false);
      expect(data.delete('missing')).toBe(false);
      expect(data.set('a', 1)).toBe(data);
      data.set('b', { nested: true }).set('c', undefined);
      expect(data.has('c')).toBe(true);
      expect(data.size).toBe(3);
    });
    await client.visit(async (s) => {
      const data = await s.get('map.like');
      expect([...data.keys()]).toEqual(['a', 'b', 'c']);
      expect([...data.values()]).toEqual([1, { nested: true }, undefined]);
      expect([...data.entries()]).toEqual([
        ['a', 1],
        ['b', { nested: true }],
        ['c', undefined],
      ]);
      expect([...data]).toEqual([...data.entries()]);
      expect(data.toJSON()).toEqual({ a: 1, b: { nested: true }, c: undefined });
      expect(JSON.stringify({ pkg: data })).toBe('{"pkg":{"a":1,"b":{"nested":true}}}');
      expect(data.delete('a')).toBe(true);
      expect(data.has('a')).toBe(false);
      expect(data.size).toBe(2);
    });
    await client.visit(async (s) => {
      const data = await s.get('map.like');
      expect([...data.keys()]).toEqual(['b', 'c']);
      data.clear();
      expect(data.size).toBe(0);
    });
    const { result } = await client.visit(async (s) => (await s.get('map.like')).size);
    expect(result).toBe(0);
  });

  it('SPEC 16: three sequential requests with the cookie round-tripped count 1, 2, 3', async () => {
    const { manager } = memoryManager();
    const client = browser(manager);
    const seen: number[] = [];
    for (let i = 0; i < 3; i++) {
      const { result } = await client.visit(async (s) => {
        const data = await s.get('counter');
        const count = ((data.get('count') as number | undefined) ?? 0) + 1;
        data.set('count', count);
        return count;
      });
      seen.push(result);
    }
    expect(seen).toEqual([1, 2, 3]);
  });

  it('SPEC 17: a request that never touches the session does no store I/O and sends no cookie', async () => {
    const { manager, store } = memoryManager();
    const client = browser(manager);
    await client.visit(async (s) => (await s.get('counter')).set('count', 1));
    const calls = countCalls(store);
    for (const init of [{}, { cookie: client.cookie as string }, { cookie: 'tsession=garbage' }]) {
      const session = manager.open(request(init));
      await session.commit();
      expect(session.responseHeaders).toEqual([]);
    }
    expect(calls).toEqual({ load: 0, commit: 0, destroy: 0 });
  });

  it('SPEC 17: a committed session refuses further use', async () => {
    const { manager } = memoryManager();
    const session = manager.open(request());
    const data = await session.get('p');
    await session.commit();
    expect(session.isOpen).toBe(false);
    expect(() => data.set('k', 1)).toThrow(SessionStateError);
    await expect(session.get('p')).rejects.toThrow(SessionStateError);
  });
});
