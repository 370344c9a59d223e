import { createServer } from 'node:http';
import express, { type RequestHandler } from 'express';
import { describe, expect, it } from 'vitest';
import { retryOnConflict, sessions } from '../../src/adapters/express/index.js';
import { SessionConfigError } from '../../src/errors.js';
import { memoryManager } from '../helpers.js';
import { adapterSuite } from './suite.js';
import { Browser } from './support/browser.js';
import { listen, renderNode } from './support/node.js';

adapterSuite(
  'tsession/express',
  async (manager, routes, { trustProxy, form }) => {
    const app = express();
    if (trustProxy) app.set('trust proxy', true);
    if (form) app.use(express.urlencoded({ extended: false }));
    app.use(sessions(manager));
    if (form) {
      app.post('/echo', async (req, res) => {
        await req.tsession.get('suite.counter');
        res.send(req.body.note);
      });
    }
    for (const route of routes) {
      const handler: RequestHandler = async (req, res) => renderNode(res, await route.run(req.tsession));
      const method = route.method === 'GET' ? 'get' : 'post';
      app[method](route.path, route.retry ? retryOnConflict(handler) : handler);
    }
    // Quiet error handler: answers with the error's status, as Express's default does.
    app.use(((error, _req, res, _next) => {
      res.status((error as { status?: number }).status ?? 500).send('error');
    }) as express.ErrorRequestHandler);
    return listen(createServer(app));
  },
  { retry: true },
);

describe('tsession/express specifics', () => {
  it("cookiePath: 'mount' gives the cookie the mount path", async () => {
    const { manager } = memoryManager();
    const app = express();
    const shop = express.Router();
    shop.use(sessions(manager, { cookiePath: 'mount' }));
    shop.get('/visit', async (req, res) => {
      (await req.tsession.get('shop.visits')).set('n', 1);
      res.send('ok');
    });
    app.use('/shop', shop);
    const server = await listen(createServer(app));
    try {
      const answer = await new Browser(server.url).get('/shop/visit');
      expect(answer.setCookies[0]?.attributes.get('path')).toBe('/shop');
    } finally {
      await server.close();
    }
  });

  // Without a handler of the app's, Express's default error handler answers a conflict with 409:
  // test/adapters/express4.test.ts runs that case on Express 4 and 5.

  it('retryOnConflict validates attempts', () => {
    expect(() => retryOnConflict(() => {}, { attempts: 0 })).toThrow(SessionConfigError);
  });
});
