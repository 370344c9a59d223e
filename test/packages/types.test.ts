/** The data type of a validated package is inferred from its schemas, whichever library made them. */
import { type } from 'arktype';
import * as v from 'valibot';
import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import {
  CookieClientIdManager,
  definePackage,
  type PackageData,
  type PackageDefinition,
  type Session,
  SessionDataContainer,
  SessionManager,
} from '../../src/index.js';
import { MemoryStore } from '../../src/stores/memory/index.js';
import { request, SECRET } from '../helpers.js';

type Cart = { items: string[]; coupon: string };

describe('validated package types', () => {
  it('infer the shape from zod, valibot and arktype schemas', () => {
    const zod = definePackage('shop.cart', { items: z.array(z.string()), coupon: z.string() });
    const valibot = definePackage('shop.cart', { items: v.array(v.string()), coupon: v.string() });
    const ark = definePackage('shop.cart', { items: type('string[]'), coupon: type('string') });
    expectTypeOf(zod).toEqualTypeOf<PackageDefinition<'shop.cart', Cart>>();
    expectTypeOf(valibot).toEqualTypeOf<PackageDefinition<'shop.cart', Cart>>();
    expectTypeOf(ark).toEqualTypeOf<PackageDefinition<'shop.cart', Cart>>();
  });

  it('type session.get, peek, set and delete through the definition, with no declare module', async () => {
    const cart = definePackage('shop.cart2', { items: z.array(z.string()), n: z.number() });
    const manager = new SessionManager({
      clientIds: new CookieClientIdManager({ secret: SECRET }),
      container: new SessionDataContainer({
        store: new MemoryStore({ sweepIntervalSeconds: 0 }),
        sweepIntervalSeconds: 0,
      }),
      packages: [cart],
    });
    const session: Session = manager.open(request());
    const data = await session.get(cart);
    expectTypeOf(data).toEqualTypeOf<PackageData<{ items: string[]; n: number }>>();
    expectTypeOf(data.get('n')).toEqualTypeOf<number | undefined>();
    expectTypeOf(await session.peek(cart)).toEqualTypeOf<PackageData<{ items: string[]; n: number }> | undefined>();
    // Never called: the point is which lines compile.
    const writes = () => {
      session.set(cart, 'n', 1);
      session.delete(cart, 'items');
      // @ts-expect-error: a string is not the number the schema says
      session.set(cart, 'n', 'one');
      // @ts-expect-error: not a key of the definition
      session.set(cart, 'other', 1);
      // @ts-expect-error: not a key of the definition
      data.get('other');
    };
    expectTypeOf(writes).returns.toBeVoid();
  });
});
