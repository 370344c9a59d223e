import { createServer } from 'node:http';
import { Readable } from 'node:stream';
import Koa, { type Context, type Middleware } from 'koa';
import { describe, expect, it } from 'vitest';
import { retryOnConflict, sessions } from '../../src/adapters/koa/index.js';
import { SessionConfigError } from '../../src/errors.js';
import { memoryManager } from '../helpers.js';
import { adapterSuite } from './suite.js';
import { Browser } from './support/browser.js';
import { listen } from './support/node.js';
import type { SuiteResult } from './support/routes.js';

function render(ctx: Context, result: SuiteResult): void {
  switch (result.kind) {
    case 'text':
      ctx.type = 'text/plain; charset=utf-8';
      ctx.body = result.body;
      return;
    case 'redirect':
      ctx.redirect(result.location);
      return;
    case 'length':
      ctx.type = 'text/plain';
      ctx.body = result.body;
      ctx.length = Buffer.byteLength(result.body);
      return;
    case 'stream': {
      const chunks = result.chunks;
      ctx.type = 'text/plain';
      ctx.body = Readable.from(
        (async function* () {
          for (const chunk of chunks) {
            await new Promise((resolve) => setImmediate(resolve));
            yield Buffer.from(chunk);
          }
        })(),
      );
    }
  }
}

function quiet(app: Koa): Koa {
  app.silent = true;
  return app;
}

adapterSuite(
  'tsession/koa',
  async (manager, routes, { trustProxy, form }) => {
    const app = quiet(new Koa({ proxy: trustProxy }));
    // What a body parser (@koa/bodyparser, koa-body) leaves on ctx.request.body.
    if (form) app.use(parseForm);
    app.use(sessions(manager));
    if (form) {
      app.use(async (ctx, next) => {
        if (ctx.path !== '/echo') return next();
        await ctx.tsession.get('suite.counter');
        ctx.body = (ctx.request as { body?: Record<string, string> }).body?.note ?? '';
      });
    }
    const handlers = new Map<string, Middleware>();
    for (const route of routes) {
      const handler: Middleware = async (ctx) => render(ctx, await route.run(ctx.tsession));
      handlers.set(`${route.method} ${route.path}`, route.retry ? retryOnConflict(handler) : handler);
    }
    app.use(async (ctx, next) => {
      const handler = handlers.get(`${ctx.method} ${ctx.path}`);
      if (handler) await handler(ctx, next);
    });
    return listen(createServer(app.callback()));
  },
  { retry: true },
);

describe('tsession/koa specifics', () => {
  it('cookiePath becomes the cookie path', async () => {
    const { manager } = memoryManager();
    const app = quiet(new Koa());
    app.use(sessions(manager, { cookiePath: '/shop' }));
    app.use(async (ctx) => {
      (await ctx.tsession.get('shop.visits')).set('n', 1);
      ctx.body = 'ok';
    });
    const server = await listen(createServer(app.callback()));
    try {
      const answer = await new Browser(server.url).get('/shop/visit');
      expect(answer.setCookies[0]?.attributes.get('path')).toBe('/shop');
    } finally {
      await server.close();
    }
  });

  it('retryOnConflict validates attempts and needs the middleware', async () => {
    expect(() => retryOnConflict(async () => {}, { attempts: 0 })).toThrow(SessionConfigError);
    const app = quiet(new Koa());
    app.use(retryOnConflict(async (ctx) => void (ctx.body = 'x')));
    const server = await listen(createServer(app.callback()));
    try {
      expect((await new Browser(server.url).get('/')).status).toBe(500);
    } finally {
      await server.close();
    }
  });
});

/** A minimal urlencoded body parser, as @koa/bodyparser would leave `ctx.request.body`. */
async function parseForm(ctx: Koa.Context, next: Koa.Next): Promise<void> {
  if (ctx.method === 'POST' && ctx.is('application/x-www-form-urlencoded')) {
    let body = '';
    for await (const chunk of ctx.req) body += chunk;
    (ctx.request as { body?: unknown }).body = Object.fromEntries(new URLSearchParams(body));
  }
  await next();
}
