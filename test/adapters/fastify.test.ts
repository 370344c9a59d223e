import { Readable } from 'node:stream';
import Fastify, { type FastifyReply, type RouteHandlerMethod } from 'fastify';
import { describe, expect, it } from 'vitest';
import { retryOnConflict, sessions } from '../../src/adapters/fastify/index.js';
import { SessionConfigError } from '../../src/errors.js';
import { memoryManager } from '../helpers.js';
import { adapterSuite } from './suite.js';
import { Browser } from './support/browser.js';
import type { SuiteResult } from './support/routes.js';

function render(reply: FastifyReply, result: SuiteResult): unknown {
  switch (result.kind) {
    case 'text':
      reply.type('text/plain; charset=utf-8');
      return result.body;
    case 'redirect':
      return reply.redirect(result.location, 302);
    case 'length':
      reply.type('text/plain').header('content-length', Buffer.byteLength(result.body));
      return result.body;
    case 'stream': {
      const chunks = result.chunks;
      reply.type('text/plain');
      return Readable.from(
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

async function start(app: ReturnType<typeof Fastify>) {
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  return { url: address, close: () => app.close() };
}

adapterSuite(
  'tsession/fastify',
  async (manager, routes, { trustProxy, form }) => {
    const app = Fastify({ trustProxy });
    await app.register(sessions, { manager });
    if (form) {
      // What @fastify/formbody does: parse urlencoded bodies into request.body.
      app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) =>
        done(null, Object.fromEntries(new URLSearchParams(body as string))),
      );
      app.post('/echo', async (request) => {
        await request.tsession.get('suite.counter');
        return (request.body as Record<string, string>).note;
      });
    }
    for (const route of routes) {
      const handler: RouteHandlerMethod = async (request, reply) => render(reply, await route.run(request.tsession));
      app.route({ method: route.method, url: route.path, handler: route.retry ? retryOnConflict(handler) : handler });
    }
    return start(app);
  },
  { retry: true },
);

describe('tsession/fastify specifics', () => {
  it('registered in a child scope, it serves that scope (skip-override) and the prefix can be the cookie path', async () => {
    const { manager } = memoryManager();
    const app = Fastify();
    await app.register(
      async (shop) => {
        await shop.register(sessions, { manager, cookiePath: 'mount' });
        shop.get('/visit', async (request) => {
          (await request.tsession.get('shop.visits')).set('n', 1);
          return 'ok';
        });
      },
      { prefix: '/shop' },
    );
    app.get('/outside', async (request) => String(request.tsession));
    const server = await start(app);
    try {
      const answer = await new Browser(server.url).get('/shop/visit');
      expect(answer.status).toBe(200);
      expect(answer.setCookies[0]?.attributes.get('path')).toBe('/shop');
      expect((await new Browser(server.url).get('/outside')).body).toBe('undefined');
    } finally {
      await server.close();
    }
  });

  it('refuses to register without a manager, and retryOnConflict validates attempts', async () => {
    const app = Fastify();
    await expect(app.register(sessions, {} as never).ready()).rejects.toThrow(SessionConfigError);
    expect(() => retryOnConflict(async () => 'x', { attempts: 1.5 })).toThrow(SessionConfigError);
  });
});
