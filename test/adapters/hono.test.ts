import { type Context, type Handler, Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { stream } from 'hono/streaming';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { retryOnConflict, sessions } from '../../src/adapters/hono/index.js';
import { ConflictError, type Session, SessionConfigError } from '../../src/index.js';
import { memoryManager } from '../helpers.js';
import { adapterSuite } from './suite.js';
import { Browser } from './support/browser.js';
import type { SuiteResult } from './support/routes.js';
import { serveFetch } from './support/web.js';

function render(c: Context, result: SuiteResult): Response | Promise<Response> {
  switch (result.kind) {
    case 'text':
      return c.text(result.body);
    case 'redirect':
      return c.redirect(result.location, 302);
    case 'length':
      c.header('Content-Length', String(Buffer.byteLength(result.body)));
      return c.text(result.body);
    case 'stream':
      c.header('Content-Type', 'text/plain');
      return stream(c, async (out) => {
        for (const chunk of result.chunks) {
          await new Promise((resolve) => setImmediate(resolve));
          await out.write(chunk);
        }
      });
  }
}

adapterSuite(
  'tsession/hono',
  async (manager, routes, { trustProxy, form }) => {
    const app = new Hono();
    app.use(sessions(manager, { trustProxy }));
    if (form) {
      app.post('/echo', async (c) => {
        await c.get('tsession').get('suite.counter');
        return c.text(String((await c.req.parseBody()).note ?? ''));
      });
    }
    for (const route of routes) {
      const handler: Handler = async (c) => render(c, await route.run(c.get('tsession')));
      app.on(route.method, route.path, route.retry ? retryOnConflict(handler) : handler);
    }
    app.onError((error, c) => (error instanceof HTTPException ? error.getResponse() : c.text('error', 500)));
    return serveFetch(app.fetch);
  },
  { retry: true },
);

describe('tsession/hono specifics', () => {
  it("types c.get('tsession') through ContextVariableMap", () => {
    const app = new Hono();
    app.get('/', (c) => {
      expectTypeOf(c.get('tsession')).toEqualTypeOf<Session>();
      return c.text('ok');
    });
  });

  it("with Hono's default error handler, a handler's conflict answers 409 and a mount path is the cookie path", async () => {
    const { manager } = memoryManager();
    const shop = new Hono();
    shop.use(sessions(manager, { cookiePath: '/shop' }));
    shop.get('/visit', async (c) => {
      (await c.get('tsession').get('shop.visits')).set('n', 1);
      return c.text('ok');
    });
    shop.get('/conflict', () => {
      throw new ConflictError('version', ['x › y']);
    });
    const app = new Hono().route('/shop', shop);
    const server = await serveFetch(app.fetch);
    try {
      const answer = await new Browser(server.url).get('/shop/visit');
      expect(answer.setCookies[0]?.attributes.get('path')).toBe('/shop');
      expect((await new Browser(server.url).get('/shop/conflict')).status).toBe(409);
    } finally {
      await server.close();
    }
  });

  it('retryOnConflict validates attempts', () => {
    expect(() => retryOnConflict((c) => c.text('x'), { attempts: -1 })).toThrow(SessionConfigError);
  });
});
