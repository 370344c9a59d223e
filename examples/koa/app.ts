/**
 * tsession on Koa 3: a counter, a cart, login and logout, and a page that reads the
 * session through `session:` paths. Build it with {@link createApp}; `server.ts` runs it.
 */
import Koa, { type Context, type Middleware } from 'koa';
import type { SessionManager } from 'tsession';
import { retryOnConflict, sessions } from 'tsession/koa';
import { sessionView } from 'tsession/templates';
import { homePage } from '../shared/views.js';

declare module 'tsession' {
  interface SessionPackages {
    'example.counter': { n: number };
    'example.cart': { items: string[] };
    'example.auth': { user: string };
  }
}

const USER = /^\w{1,32}$/;

/** The example app, its sessions served by `manager`. */
export function createApp(manager: SessionManager): Koa {
  const app = new Koa();
  app.use(sessions(manager));

  // Two tabs posting at once: the loser of the race runs again on the winner's data instead of a 409.
  app.use(
    route(
      'POST',
      '/counter',
      retryOnConflict(async (ctx) => {
        const counter = await ctx.tsession.get('example.counter');
        const n = (counter.get('n') ?? 0) + 1;
        counter.set('n', n);
        ctx.body = { n };
      }),
    ),
  );

  app.use(
    route('POST', '/cart', async (ctx) => {
      const item = (await readForm(ctx)).get('item')?.slice(0, 100) ?? ctx.throw(400, 'Name an item.');
      const cart = await ctx.tsession.get('example.cart');
      const items = cart.get('items');
      if (items)
        items.push(item); // mutated in place: the change is saved at commit
      else cart.set('items', [item]);
      redirect(ctx, '/');
    }),
  );

  app.use(
    route('GET', '/cart', async (ctx) => {
      const cart = await ctx.tsession.peek('example.cart'); // peek: a visitor without a cart gets none
      ctx.body = { items: cart?.get('items') ?? [] };
    }),
  );

  app.use(
    route('POST', '/login', async (ctx) => {
      const user = (await readForm(ctx)).get('user') ?? '';
      if (!USER.test(user)) ctx.throw(400, 'A user name is 1 to 32 letters, digits or underscores.');
      await ctx.tsession.regenerate(); // a new id when privileges change, against session fixation
      (await ctx.tsession.get('example.auth')).set('user', user);
      redirect(ctx, '/');
    }),
  );

  app.use(
    route('POST', '/logout', async (ctx) => {
      ctx.tsession.invalidate(); // deletes the data and removes the cookie
      redirect(ctx, '/');
    }),
  );

  // A synchronous view of these packages for the template (with @ladjs/koa-views: ctx.render('home', { session })).
  app.use(
    route('GET', '/', async (ctx) => {
      ctx.type = 'html';
      ctx.body = homePage('Koa', await sessionView(ctx.tsession, ['example.auth', 'example.cart', 'example.counter']));
    }),
  );
  return app;
}

/** One route, as `@koa/router` would give it: `router.post('/counter', retryOnConflict(...))`. */
function route(method: string, path: string, handler: Middleware): Middleware {
  return (ctx, next) => (ctx.method === method && ctx.path === path ? handler(ctx, next) : next());
}

function redirect(ctx: Context, to: string): void {
  ctx.redirect(to);
  ctx.status = 303; // See Other: the browser follows with a GET
}

/** An application/x-www-form-urlencoded body of at most 8 KiB (what koa-bodyparser would parse). */
async function readForm(ctx: Context): Promise<URLSearchParams> {
  if (!ctx.is('urlencoded')) ctx.throw(415, 'Send the form as application/x-www-form-urlencoded.');
  ctx.req.setEncoding('utf8');
  let body = '';
  for await (const chunk of ctx.req) {
    body += chunk;
    if (body.length > 8192) ctx.throw(413, 'The form is too large.');
  }
  return new URLSearchParams(body);
}
