/** @jsxImportSource hono/jsx */
/**
 * tsession on Hono 4: a counter, a cart, login and logout, and a page that reads the
 * session through `session:` paths. Build it with {@link createApp}; `server.ts` runs it
 * on @hono/node-server (on other runtimes, export `app.fetch`).
 */
import { Hono } from 'hono';
import { validator } from 'hono/validator';
import type { SessionManager } from 'tsession';
import { retryOnConflict, sessions } from 'tsession/hono';
import { sessionView } from 'tsession/templates';
import { HomePage } from './views.js';

declare module 'tsession' {
  interface SessionPackages {
    'example.counter': { n: number };
    'example.cart': { items: string[] };
    'example.auth': { user: string };
  }
}

const USER = /^\w{1,32}$/;

const itemForm = validator('form', (form, c) => {
  const item = form.item;
  if (typeof item !== 'string' || item === '') return c.text('Name an item.', 400);
  return { item: item.slice(0, 100) };
});

const loginForm = validator('form', (form, c) => {
  const user = form.user;
  if (typeof user !== 'string' || !USER.test(user)) {
    return c.text('A user name is 1 to 32 letters, digits or underscores.', 400);
  }
  return { user };
});

/** The example app, its sessions served by `manager`. */
export function createApp(manager: SessionManager, options: { trustProxy?: boolean } = {}): Hono {
  const app = new Hono();
  app.use(sessions(manager, { trustProxy: options.trustProxy ?? false }));

  // Two tabs posting at once: the loser of the race runs again on the winner's data instead of a 409.
  app.post(
    '/counter',
    retryOnConflict(async (c) => {
      const counter = await c.get('tsession').get('example.counter');
      const n = (counter.get('n') ?? 0) + 1;
      counter.set('n', n);
      return c.json({ n });
    }),
  );

  app.post('/cart', itemForm, async (c) => {
    const { item } = c.req.valid('form');
    const cart = await c.get('tsession').get('example.cart');
    const items = cart.get('items');
    if (items)
      items.push(item); // mutated in place: the change is saved at commit
    else cart.set('items', [item]);
    return c.redirect('/', 303);
  });

  app.get('/cart', async (c) => {
    const cart = await c.get('tsession').peek('example.cart'); // peek: a visitor without a cart gets none
    return c.json({ items: cart?.get('items') ?? [] });
  });

  app.post('/login', loginForm, async (c) => {
    const session = c.get('tsession');
    await session.regenerate(); // a new id when privileges change, against session fixation
    (await session.get('example.auth')).set('user', c.req.valid('form').user);
    return c.redirect('/', 303);
  });

  app.post('/logout', (c) => {
    c.get('tsession').invalidate(); // deletes the data and removes the cookie
    return c.redirect('/', 303);
  });

  // A synchronous view of these packages for the template.
  app.get('/', async (c) => {
    const session = await sessionView(c.get('tsession'), ['example.auth', 'example.cart', 'example.counter']);
    return c.html(<HomePage session={session} />);
  });
  return app;
}
