/**
 * A node:http app over one store for the validated-package tests: a cart package declared
 * with a schema per key, routes that write it in every way an app can, and the errors the
 * adapter answered for.
 */
import { createServer } from 'node:http';
import { type } from 'arktype';
import * as v from 'valibot';
import { z } from 'zod';
import { withSessions } from '../../src/adapters/http/index.js';
import {
  CookieClientIdManager,
  definePackage,
  type InvalidPolicy,
  type PackageData,
  type PackageDefinition,
  SessionDataContainer,
  SessionManager,
  type SessionStore,
} from '../../src/index.js';
import { listen } from '../adapters/support/node.js';
import { SECRET } from '../helpers.js';

/** The cart as every library declares it: up to 3 non-empty item names, and an upper-case coupon. */
export type Cart = PackageDefinition<'shop.cart', { items: string[]; coupon: string }>;

export const LIBRARIES = ['zod', 'valibot', 'arktype'] as const;
export type Library = (typeof LIBRARIES)[number];

/** The same cart definition through each library's own Standard Schema implementation. */
export function cartWith(library: Library, onInvalid?: InvalidPolicy): Cart {
  const options = onInvalid === undefined ? {} : { onInvalid };
  switch (library) {
    case 'zod':
      return definePackage(
        'shop.cart',
        { items: z.array(z.string().min(1)).max(3), coupon: z.string().regex(/^[A-Z]+$/) },
        options,
      );
    case 'valibot':
      return definePackage(
        'shop.cart',
        {
          items: v.pipe(v.array(v.pipe(v.string(), v.minLength(1))), v.maxLength(3)),
          coupon: v.pipe(v.string(), v.regex(/^[A-Z]+$/)),
        },
        options,
      );
    case 'arktype':
      return definePackage(
        'shop.cart',
        { items: type('string > 0').array().atMostLength(3), coupon: type(/^[A-Z]+$/) },
        options,
      );
  }
}

export interface App {
  readonly url: string;
  /** Errors the adapter answered for, in order. */
  readonly errors: unknown[];
  get(path: string, cookie?: string): Promise<{ status: number; body: string; cookie: string | undefined }>;
  close(): Promise<void>;
}

/**
 * Routes: /read (the cart as JSON), /add?item= (a new array), /push?item= (in place),
 * /coupon?c=, /blind?item= (a blind write of items), /undeclared (a key the definition lacks,
 * through the package id), /mixed?item= (writes another package too, then the cart). An item
 * is a string, or, with `json=1`, the JSON it spells (for a cart whose items are objects).
 */
export async function startApp(store: SessionStore, cart: PackageDefinition<'shop.cart'>): Promise<App> {
  const manager = new SessionManager({
    clientIds: new CookieClientIdManager({ secret: SECRET }),
    container: new SessionDataContainer({ store, sweepIntervalSeconds: 0 }),
    packages: [cart],
  });
  const errors: unknown[] = [];
  const server = createServer(
    withSessions(
      manager,
      async (req, res) => {
        const url = new URL(req.url ?? '/', 'http://x');
        const raw = url.searchParams.get('item') ?? '';
        const item: unknown = url.searchParams.has('json') ? JSON.parse(raw) : raw;
        if (url.pathname === '/blind') {
          req.session.set(cart as Cart, 'items', [item as string]);
          return res.end('ok');
        }
        if (url.pathname === '/undeclared') {
          // Through the id, typed as any package: the definition is applied all the same.
          const data = (await req.session.get('shop.cart')) as unknown as PackageData<Record<string, unknown>>;
          data.set('other', 1);
          return res.end('ok');
        }
        if (url.pathname === '/mixed') (await req.session.get('shop.notes')).set('note', item);
        // Typed loosely on purpose: the same routes serve carts of two schema versions.
        const data = (await req.session.get(cart)) as unknown as PackageData<{ items: unknown[]; coupon: string }>;
        if (url.pathname === '/add' || url.pathname === '/mixed')
          data.set('items', [...(data.get('items') ?? []), item]);
        else if (url.pathname === '/push') data.get('items')?.push(item);
        else if (url.pathname === '/coupon') data.set('coupon', url.searchParams.get('c') ?? '');
        res.end(JSON.stringify(data.toJSON()));
      },
      { onError: (error) => errors.push(error) },
    ),
  );
  const running = await listen(server);
  return {
    url: running.url,
    errors,
    async get(path, cookie) {
      const response = await fetch(`${running.url}${path}`, cookie ? { headers: { cookie } } : {});
      return {
        status: response.status,
        body: await response.text(),
        cookie: response.headers.getSetCookie()[0]?.split(';')[0],
      };
    },
    close: () => running.close(),
  };
}
