/**
 * Express 4 ignores the promise an async handler returns, so a session error rejected
 * inside one (`await req.tsession.get()` while the store is down) would be an
 * unhandledRejection that kills the process. These tests run the same app on Express 4
 * and 5, over a RedisStore on a dedicated redis-server that is stopped mid-run, and
 * check: 503 through Express's error path, the process never sees an unhandled
 * rejection, an app's own try/catch still works, and the app recovers when Redis is back.
 */

import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sessions } from '../../src/adapters/express/index.js';
import { CookieClientIdManager, SessionDataContainer, SessionManager, StoreUnavailableError } from '../../src/index.js';
import { RedisStore } from '../../src/stores/redis/index.js';
import { memoryManager, SECRET } from '../helpers.js';
import { type DedicatedRedis, redisBinaryAvailable, startDedicatedRedis } from '../support/redis-server.js';
import { uniquePrefix } from '../support/services.js';
import { Browser } from './support/browser.js';
import { listen } from './support/node.js';

type Express = typeof express;
/** Express 4, installed as the npm alias `express4` (devDependency); same API as far as these tests go. */
const express4 = createRequire(import.meta.url)('express4') as Express;
const versions: [string, Express][] = [
  ['Express 4', express4],
  ['Express 5', express],
];

const available = await redisBinaryAvailable();
const PKG = 'app.counter';

/** An async route that reads, increments and answers the counter: the shape that crashed Express 4. */
const inc: RequestHandler = async (req, res) => {
  const data = await req.tsession.get(PKG);
  const n = ((data.get('n') as number | undefined) ?? 0) + 1;
  data.set('n', n);
  res.send(String(n));
};

describe.skipIf(!available)('Express 4 and 5 survive a store outage inside async handlers', () => {
  let redis: DedicatedRedis;
  let store: RedisStore;
  let manager: SessionManager;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);

  beforeAll(async () => {
    redis = await startDedicatedRedis();
    process.on('unhandledRejection', onUnhandled);
  });
  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled);
    await redis?.cleanup();
  });
  beforeEach(async () => {
    unhandled.length = 0;
    store = new RedisStore({ url: redis.url, prefix: `${uniquePrefix('express4')}:`, commandTimeoutSeconds: 1 });
    await store.load('warm-up', 0); // connected before the test begins
    const container = new SessionDataContainer({ store });
    manager = new SessionManager({ clientIds: new CookieClientIdManager({ secret: SECRET }), container });
  });
  afterEach(async () => {
    if (redis.pid === undefined) await redis.start();
    await store?.close();
    expect(unhandled).toEqual([]);
  });

  /** GETs `path` until it answers 200 (Redis is back and the client reconnected), at most `tries` times. */
  async function untilOk(browser: Browser, path: string, tries = 200) {
    for (let i = 0; ; i++) {
      const answer = await browser.get(path);
      if (answer.status === 200 || i >= tries) return answer;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  for (const [name, framework] of versions) {
    it(`${name}: 503 through the error path while Redis is stopped, then recovery without a restart`, async () => {
      const app = framework();
      app.use(sessions(manager));
      app.get('/inc', inc);
      const router = framework.Router();
      router.get('/inc', inc);
      app.use('/nested', router);
      // Express's own default error handler answers: it uses the error's `status`.
      const server = await listen(createServer(app));
      try {
        const browsers = [0, 1, 2].map(() => new Browser(server.url));
        for (const browser of browsers) expect((await browser.get('/inc')).body).toBe('1');

        await redis.stop();
        for (const browser of browsers) {
          for (const path of ['/inc', '/nested/inc', '/inc']) {
            const answer = await browser.get(path);
            expect(answer.status).toBe(503);
          }
        }
        expect(unhandled).toEqual([]);

        await redis.start();
        for (const browser of browsers) {
          const answer = await untilOk(browser, '/inc');
          expect([answer.status, answer.body]).toEqual([200, '2']); // the session survived the outage
          expect((await browser.get('/nested/inc')).body).toBe('3');
        }
      } finally {
        await server.close();
      }
    });

    it(`${name}: an app's own try/catch around get() still sees the error (a degraded page)`, async () => {
      const app = framework();
      app.use(sessions(manager));
      app.get('/inc', inc);
      app.get('/degraded', async (req, res) => {
        try {
          const data = await req.tsession.get(PKG);
          res.send(`n=${String(data.get('n'))}`);
        } catch (error) {
          res.send(error instanceof StoreUnavailableError ? 'degraded' : 'other');
        }
      });
      const server = await listen(createServer(app));
      try {
        const browser = new Browser(server.url);
        await browser.get('/inc');
        await redis.stop();
        const answer = await browser.get('/degraded');
        expect([answer.status, answer.body]).toEqual([200, 'degraded']);
      } finally {
        await server.close();
      }
    });

    it(`${name}: a session error reaches the error handler once, also through a wrapper that forwards it itself, and from an async error handler`, async () => {
      const app = framework();
      app.use(sessions(manager));
      app.get('/inc', inc);
      // What express-async-handler and express-async-errors do: forward the rejection and return the promise.
      const forwarding =
        (handler: RequestHandler): RequestHandler =>
        (req, res, next) => {
          const returned = Promise.resolve(handler(req, res, next));
          returned.catch(next);
          return returned as unknown as undefined;
        };
      app.get('/wrapped', forwarding(inc));
      app.get('/boom', () => {
        throw new Error('the app failed');
      });
      // An async error handler that renders with the session: on Express 4 its rejection is forwarded too.
      app.use((async (error, req, res, next) => {
        if ((error as Error).message !== 'the app failed') return next(error);
        await req.tsession.get(PKG);
        res.status(500).send('rendered');
      }) as ErrorRequestHandler);
      const seen: string[] = [];
      app.use(((error, req, res, _next) => {
        seen.push(req.path);
        res
          .status((error as { status?: number }).status ?? 500)
          .send(error instanceof StoreUnavailableError ? 'down' : 'x');
      }) as ErrorRequestHandler);
      const server = await listen(createServer(app));
      try {
        const browser = new Browser(server.url);
        await browser.get('/inc');
        await redis.stop();
        const answers = [await browser.get('/wrapped'), await browser.get('/boom')];
        expect(answers.map((a) => [a.status, a.body])).toEqual([
          [503, 'down'],
          [503, 'down'],
        ]);
        expect(seen).toEqual(['/wrapped', '/boom']);
      } finally {
        await server.close();
      }
    });
  }
});

describe('Express 4 and 5 answer a conflict with 409 through the error path', () => {
  for (const [name, framework] of versions) {
    it(`${name}: two racing writes of one key, no error handler of the app's: 200 and 409`, async () => {
      const { manager } = memoryManager();
      const app = framework();
      app.use(sessions(manager));
      let release: () => void = () => {};
      const gate = new Promise<void>((resolve) => (release = resolve));
      let arrived = 0;
      app.get('/inc', async (req, res) => {
        const data = await req.tsession.get('c');
        const n = ((data.get('n') as number | undefined) ?? 0) + 1;
        if (req.query.wait !== undefined) {
          arrived++;
          await gate;
        }
        data.set('n', n);
        res.send(String(n));
      });
      const server = await listen(createServer(app));
      try {
        const browser = new Browser(server.url);
        await browser.get('/inc');
        const both = Promise.all([browser.get('/inc?wait'), browser.get('/inc?wait')]);
        while (arrived < 2) await new Promise((r) => setTimeout(r, 5));
        release();
        expect((await both).map((a) => a.status).sort()).toEqual([200, 409]);
      } finally {
        await server.close();
      }
    });
  }
});

describe('Express 4: what tsession leaves alone', () => {
  const script = fileURLToPath(new URL('./support/express4-app-error.ts', import.meta.url));
  const run = (kind: string) =>
    new Promise<{ status: string; unhandled: string[] }>((resolve, reject) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', '--conditions=tsession-source', script, kind],
        (error, stdout, stderr) =>
          error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(JSON.parse(stdout)),
      );
    });

  it("the app's own rejection stays unhandled, exactly as Express 4 leaves it", async () => {
    expect(await run('app')).toEqual({ status: 'no answer', unhandled: ['the app failed'] });
  });

  it('a request that did not pass through sessions() runs Express 4’s own code', async () => {
    expect(await run('before')).toEqual({ status: 'no answer', unhandled: ['tsession: thrown before sessions()'] });
  });
});
