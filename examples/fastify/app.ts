/**
 * tsession on Fastify 5: a counter, a cart, login and logout, and a page that reads the
 * session through `session:` paths. Build it with {@link createApp}; `server.ts` runs it.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { SessionManager } from 'tsession';
import { retryOnConflict, sessions } from 'tsession/fastify';
import { sessionView } from 'tsession/templates';
import { homePage } from '../shared/views.js';

declare module 'tsession' {
  interface SessionPackages {
    'example.counter': { n: number };
    'example.cart': { items: string[] };
    'example.auth': { user: string };
  }
}

const itemSchema = {
  body: { type: 'object', required: ['item'], properties: { item: { type: 'string', maxLength: 100 } } },
} as const;
const loginSchema = {
  body: { type: 'object', required: ['user'], properties: { user: { type: 'string', pattern: '^\\w{1,32}$' } } },
} as const;

/** The example app, its sessions served by `manager`. Call `listen()` on it, or `inject()`. */
export async function createApp(manager: SessionManager): Promise<FastifyInstance> {
  const app = Fastify();
  // HTML forms, without a plugin: application/x-www-form-urlencoded bodies as plain objects.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) =>
    done(null, Object.fromEntries(new URLSearchParams(body as string))),
  );
  await app.register(sessions, { manager });

  // Two tabs posting at once: the loser of the race runs again on the winner's data instead of a 409.
  // A retried handler returns its payload rather than calling reply.send().
  app.post(
    '/counter',
    retryOnConflict(async (request) => {
      const counter = await request.tsession.get('example.counter');
      const n = (counter.get('n') ?? 0) + 1;
      counter.set('n', n);
      return { n };
    }),
  );

  app.post<{ Body: { item: string } }>('/cart', { schema: itemSchema }, async (request, reply) => {
    const cart = await request.tsession.get('example.cart');
    const items = cart.get('items');
    if (items)
      items.push(request.body.item); // mutated in place: the change is saved at commit
    else cart.set('items', [request.body.item]);
    return reply.redirect('/', 303);
  });

  app.get('/cart', async (request) => {
    const cart = await request.tsession.peek('example.cart'); // peek: a visitor without a cart gets none
    return { items: cart?.get('items') ?? [] };
  });

  app.post<{ Body: { user: string } }>('/login', { schema: loginSchema }, async (request, reply) => {
    await request.tsession.regenerate(); // a new id when privileges change, against session fixation
    (await request.tsession.get('example.auth')).set('user', request.body.user);
    return reply.redirect('/', 303);
  });

  app.post('/logout', async (request, reply) => {
    request.tsession.invalidate(); // deletes the data and removes the cookie
    return reply.redirect('/', 303);
  });

  // A synchronous view of these packages for the template (with @fastify/view: reply.view('home', { session })).
  app.get('/', async (request, reply) => {
    const session = await sessionView(request.tsession, ['example.auth', 'example.cart', 'example.counter']);
    return reply.type('text/html; charset=utf-8').send(homePage('Fastify', session));
  });
  return app;
}
