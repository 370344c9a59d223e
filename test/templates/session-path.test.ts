import { describe, expect, it } from 'vitest';
import { parseSessionPath, sessionPath, sessionView } from '../../src/templates/index.js';
import { cookieFrom, memoryManager, request } from '../helpers.js';

async function sessionWithData() {
  const { manager, store } = memoryManager();
  const first = manager.open(request());
  const foo = await first.get('products.foo');
  foo.set('color', 'red');
  foo.set('sizes', new Map([['eu', [38, 39]]]));
  foo.set('meta', { tags: ['a'] });
  await first.commit();
  const cookie = cookieFrom(first.responseHeaders) as string;
  return { manager, store, cookie };
}

describe('SPEC 41: session path expressions', () => {
  it('parses the package, the steps and the fallback', () => {
    expect(parseSessionPath('session:products.foo/color | blue')).toEqual({
      pkg: 'products.foo',
      steps: ['color'],
      fallback: 'blue',
    });
    expect(parseSessionPath("session:a/b/c | 'x y'")).toEqual({ pkg: 'a', steps: ['b', 'c'], fallback: 'x y' });
    expect(parseSessionPath('session:a/b | nothing').fallback).toBeUndefined();
    expect(() => parseSessionPath('products.foo/color')).toThrow(TypeError);
  });

  it('resolves values, nested steps through objects, Maps and arrays, and falls back', async () => {
    const { manager, cookie } = await sessionWithData();
    const session = manager.open(request({ cookie }));
    expect(await sessionPath(session, 'session:products.foo/color | blue')).toBe('red');
    expect(await sessionPath(session, 'session:products.foo/sizes/eu/1')).toBe(39);
    expect(await sessionPath(session, 'session:products.foo/meta/tags/0')).toBe('a');
    expect(await sessionPath(session, 'session:products.foo/meta/constructor | none')).toBe('none');
    expect(await sessionPath(session, 'session:products.foo/missing | blue')).toBe('blue');
    expect(await sessionPath(session, 'session:products.bar/color | blue')).toBe('blue');
    expect(await sessionPath(session, 'session:products.foo')).toMatchObject({ color: 'red' });
  });

  it('never creates data, a cookie or a store write for a path that names nothing', async () => {
    const { manager, store } = memoryManager();
    const session = manager.open(request());
    let scanned = 0;
    expect(await sessionPath(session, 'session:products.foo/color | blue')).toBe('blue');
    await session.commit();
    expect(session.responseHeaders).toEqual([]);
    for await (const _ of store.scan(0)) scanned++;
    expect(scanned).toBe(0);
  });

  it('gives templates a synchronous view of the packages loaded for them', async () => {
    const { manager, cookie } = await sessionWithData();
    const view = await sessionView(manager.open(request({ cookie })), ['products.foo', 'not.there']);
    expect(view.path('session:products.foo/color')).toBe('red');
    expect(view.path('session:not.there/x | fallback')).toBe('fallback');
    expect(view.path('session:products.bar/color | unloaded')).toBe('unloaded');
    expect(view.get('products.foo', 'color')).toBe('red');
  });
});
