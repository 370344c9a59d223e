/**
 * tsession on Express 5: a counter, a cart, login and logout, and a page rendered by a
 * view engine that reads the session through `session:` paths. Build it with
 * {@link createApp}; `server.ts` runs it.
 */
import { fileURLToPath } from 'node:url';
import express, { type Express } from 'express';
import type { SessionManager } from 'tsession';
import { retryOnConflict, sessions } from 'tsession/express';
import { sessionLocals } from 'tsession/templates';
import { pathEngine } from './engine.js';

declare module 'tsession' {
  interface SessionPackages {
    'example.counter': { n: number };
    'example.cart': { items: string[] };
    'example.auth': { user: string };
  }
}

const USER = /^\w{1,32}$/;

/** The example app, its sessions served by `manager`. */
export function createApp(manager: SessionManager): Express {
  const app = express();
  app.engine('html', pathEngine); // with EJS: app.set('view engine', 'ejs'), the rest is the same
  app.set('views', fileURLToPath(new URL('./views', import.meta.url)));
  app.set('view engine', 'html');
  app.use(express.urlencoded({ extended: false, limit: '8kb' }));
  app.use(sessions(manager));

  // Two tabs posting at once: the loser of the race runs again on the winner's data instead of a 409.
  app.post(
    '/counter',
    retryOnConflict(async (req, res) => {
      const counter = await req.tsession.get('example.counter');
      const n = (counter.get('n') ?? 0) + 1;
      counter.set('n', n);
      res.json({ n });
    }),
  );

  app.post('/cart', async (req, res) => {
    const item = String(req.body?.item ?? '').slice(0, 100);
    const cart = await req.tsession.get('example.cart');
    const items = cart.get('items');
    if (items)
      items.push(item); // mutated in place: the change is saved at commit
    else cart.set('items', [item]);
    res.redirect(303, '/');
  });

  app.get('/cart', async (req, res) => {
    const cart = await req.tsession.peek('example.cart'); // peek: a visitor without a cart gets none
    res.json({ items: cart?.get('items') ?? [] });
  });

  app.post('/login', async (req, res) => {
    const user = String(req.body?.user ?? '');
    if (!USER.test(user)) {
      res.status(400).send('A user name is 1 to 32 letters, digits or underscores.');
      return;
    }
    await req.tsession.regenerate(); // a new id when privileges change, against session fixation
    (await req.tsession.get('example.auth')).set('user', user);
    res.redirect(303, '/');
  });

  app.post('/logout', (req, res) => {
    req.tsession.invalidate(); // deletes the data and removes the cookie
    res.redirect(303, '/');
  });

  // res.locals.session is a synchronous view of these packages; rendering never creates a session.
  app.get('/', sessionLocals(['example.auth', 'example.cart', 'example.counter']), (_req, res) => {
    res.render('home');
  });
  return app;
}
