import { describe, expectTypeOf, it } from 'vitest';
import type { PackageData, Session } from '../../src/index.js';
import { memoryManager, request } from '../helpers.js';

declare module '../../src/index.js' {
  interface SessionPackages {
    'shop.cart': { items: string[]; coupon?: string };
  }
}

describe('SPEC 15: package data typed per package id', () => {
  it('SPEC 15: session.get() of an augmented package id is typed; other ids are string-keyed records', async () => {
    const { manager } = memoryManager();
    const session: Session = manager.open(request());
    const cart = await session.get('shop.cart');
    expectTypeOf(cart).toEqualTypeOf<PackageData<{ items: string[]; coupon?: string }>>();
    expectTypeOf(cart.get('items')).toEqualTypeOf<string[] | undefined>();
    expectTypeOf(cart.get('coupon')).toEqualTypeOf<string | undefined>();
    expectTypeOf(cart.set).parameter(0).toEqualTypeOf<'items' | 'coupon'>();
    // @ts-expect-error: not a key of the package
    cart.get('nope');
    // @ts-expect-error: wrong value type
    cart.set('items', 'apple');
    cart.set('items', ['apple']);
    expectTypeOf([...cart.keys()]).toEqualTypeOf<('items' | 'coupon')[]>();
    expectTypeOf(cart.toJSON()).toEqualTypeOf<Partial<{ items: string[]; coupon?: string }>>();

    expectTypeOf(await session.peek('shop.cart')).toEqualTypeOf<
      PackageData<{ items: string[]; coupon?: string }> | undefined
    >();
    const other = await session.get('anything.else');
    expectTypeOf(other.get('x')).toEqualTypeOf<unknown>();
    other.set('x', 42);
  });
});
