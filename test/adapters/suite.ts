/**
 * The shared adapter suite: every adapter serves the routes of `support/routes.ts` on a
 * real server on an ephemeral loopback port, and this suite drives it over real HTTP
 * (global fetch, cookies handled by hand as a browser would, redirects not followed).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  CookieClientIdManager,
  type CookieClientIdOptions,
  SessionDataContainer,
  SessionManager,
} from '../../src/index.js';
import { PostgresStore } from '../../src/stores/postgres/index.js';
import type { Clock } from '../../src/time.js';
import { deadPort, manualClock, request, SECRET } from '../helpers.js';
import { Browser, isExpired } from './support/browser.js';
import { Gate, type SuiteRoute, suiteRoutes } from './support/routes.js';
import { CountingStore } from './support/store.js';

export type { SuiteResult, SuiteRoute } from './support/routes.js';

/** A server the suite talks to. */
export interface RunningServer {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  close(): Promise<void>;
}

/** How the suite wants a server configured. */
export interface StartOptions {
  /** Trust `X-Forwarded-Proto` (the framework's own trust-proxy setting where it has one). */
  readonly trustProxy: boolean;
  /**
   * The id manager conveys ids in forms: parse urlencoded bodies the framework's usual
   * way (or, for node:http, give `withSessions` a `formField`), and serve `POST /echo`
   * answering the body's `note` field as the app reads it, to show the body is intact.
   */
  readonly form?: boolean;
}

/** Starts a real server for `manager` serving `routes` (routes with `retry` through the adapter's retry wrapper). */
export type StartServer = (
  manager: SessionManager,
  routes: readonly SuiteRoute[],
  options: StartOptions,
) => Promise<RunningServer>;

/** What the adapter under test supports beyond the common ground. */
export interface SuiteOptions {
  /** The adapter has a conflict-retry wrapper and registered `/conflict-retry` with it. */
  readonly retry?: boolean;
}

interface Fixture {
  store: CountingStore;
  manager: SessionManager;
  server: RunningServer;
}

function fixture(
  start: StartServer,
  routes: SuiteRoute[],
  trustProxy: boolean,
  cookie: Partial<CookieClientIdOptions> = {},
  clock?: Clock,
  form = false,
): () => Promise<Fixture> {
  return async () => {
    const store = new CountingStore();
    const manager = new SessionManager({
      clientIds: new CookieClientIdManager({ secret: SECRET, ...cookie, ...(clock && { clock }) }),
      container: new SessionDataContainer({ store, resolution: 600, ...(clock && { clock }) }),
    });
    return { store, manager, server: await start(manager, routes, { trustProxy, form }) };
  };
}

/**
 * Registers the shared adapter tests for one adapter.
 *
 * @example
 * ```ts
 * adapterSuite('tsession/express', async (manager, routes, { trustProxy }) => listen(makeApp(...)));
 * ```
 */
export function adapterSuite(name: string, start: StartServer, options: SuiteOptions = {}): void {
  describe(`${name}: shared adapter suite`, () => {
    let gate = new Gate();
    const routes = suiteRoutes(() => gate);
    const fixtures: Fixture[] = [];
    let main: Fixture;
    let proxied: Fixture;
    let postOnly: Fixture;
    let lasting: Fixture;
    let formed: Fixture;
    const clock = manualClock(Math.floor(Date.now() / 1000));
    let browser: Browser;
    const store = () => main.store;

    beforeAll(async () => {
      main = await fixture(start, routes, false)();
      proxied = await fixture(start, routes, true)();
      postOnly = await fixture(start, routes, false, { postOnly: true })();
      lasting = await fixture(start, routes, false, { lifetime: 86_400 }, clock)();
      formed = await fixture(start, routes, false, { conveyances: ['form'] }, undefined, true)();
      fixtures.push(main, proxied, postOnly, lasting, formed);
    });
    afterAll(async () => {
      await Promise.all(fixtures.map((f) => f.server.close()));
      await Promise.all(fixtures.map((f) => f.manager.close()));
    });
    beforeEach(() => {
      gate = new Gate();
      main.store.reset();
      browser = new Browser(main.server.url);
    });

    it('SPEC 1: a request that writes gets exactly one Set-Cookie, with cache-prevention headers', async () => {
      const first = await browser.get('/id');
      expect(first.setCookies).toHaveLength(1);
      expect(first.setCookies[0]?.name).toBe('tsession');
      expect(first.body).toBe(first.setCookies[0]?.value);
      expect(first.headers.get('cache-control')).toContain('no-cache');
      expect(first.headers.get('pragma')).toBe('no-cache');
      const write = await new Browser(main.server.url).get('/count');
      expect(write.setCookies).toHaveLength(1);
    });

    it('SPEC 2: the cookie sent back gives the same id and no Set-Cookie', async () => {
      const first = await browser.get('/id');
      const second = await browser.get('/id');
      expect(second.body).toBe(first.body);
      expect(second.setCookies).toHaveLength(0);
      await browser.get('/count');
      const again = await browser.get('/count');
      expect(again.setCookies).toHaveLength(0);
      expect(again.body).toBe('2');
    });

    it('form conveyance: the id posted in a form field finds the session, and the app still reads its body', async () => {
      const post = (path: string, body: string) =>
        fetch(formed.server.url + path, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body,
        });
      const first = await post('/form-count', 'note=first');
      expect(await first.text()).toBe('1');
      const id = first.headers.getSetCookie()[0]?.split(';')[0]?.split('=')[1] as string;
      expect(id).toMatch(/^[\w-]{24}\.[\w-]{43}$/);
      const field = `tsession=${encodeURIComponent(id)}`;
      const second = await post('/form-count', `${field}&note=x`);
      expect(await second.text()).toBe('2');
      expect(second.headers.getSetCookie()).toHaveLength(0);
      // Without the field the request has no session: a new one starts.
      expect(await (await post('/form-count', 'note=y')).text()).toBe('1');
      const echo = await post('/echo', `${field}&note=${encodeURIComponent('still here')}`);
      expect(await echo.text()).toBe('still here');
      expect(await (await post('/form-count', field)).text()).toBe('3');
    });

    it('SPEC 4: under postOnly a GET that needs an id answers 400 with no cookie; a POST issues one', async () => {
      const visitor = new Browser(postOnly.server.url);
      const get = await visitor.get('/count');
      expect(get.status).toBe(400);
      expect(get.setCookies).toHaveLength(0);
      const post = await visitor.post('/login');
      expect(post.status).toBe(200);
      expect(post.setCookies).toHaveLength(1);
      expect((await visitor.get('/count')).body).toBe('1');
    });

    it('SPEC 3: with a lifetime, the cookie is re-sent with a fresh expiry at most once per resolution', async () => {
      const visitor = new Browser(lasting.server.url);
      const first = await visitor.get('/count');
      const expires = Date.parse(first.setCookies[0]?.attributes.get('expires') ?? '');
      expect(expires).toBe((clock() + 86_400) * 1000);
      clock.advance(300);
      expect((await visitor.get('/count')).setCookies).toHaveLength(0);
      expect((await visitor.get('/read')).setCookies).toHaveLength(0);
      clock.advance(301);
      const refreshed = await visitor.get('/read');
      expect(refreshed.setCookies).toHaveLength(1);
      expect(Date.parse(refreshed.setCookies[0]?.attributes.get('expires') ?? '')).toBe((clock() + 86_400) * 1000);
    });

    it('SPEC 16: three sequential requests count 1, 2, 3', async () => {
      const seen = [];
      for (let i = 0; i < 3; i++) seen.push((await browser.get('/count')).body);
      expect(seen).toEqual(['1', '2', '3']);
    });

    it('SPEC 17: a request that never touches the session does no store I/O and sends no cookie', async () => {
      const fresh = await browser.get('/none');
      expect(fresh.setCookies).toHaveLength(0);
      await browser.get('/count');
      store().reset();
      const known = await browser.get('/none');
      expect(known.body).toBe('none');
      expect(known.setCookies).toHaveLength(0);
      expect(store().calls).toBe(0);
    });

    it('SPEC 23/40: a read-only request loads once and writes nothing', async () => {
      await browser.get('/count');
      store().reset();
      expect((await browser.get('/read')).body).toBe('1');
      expect(store().loads).toBe(1);
      expect(store().commits).toBe(0);
    });

    it('SPEC 18: mutating a stored object in place is saved', async () => {
      expect((await browser.get('/cart')).body).toBe('[1]');
      expect((await browser.get('/cart')).body).toBe('[1,2]');
      expect((await browser.get('/cart')).body).toBe('[1,2,3]');
    });

    it('SPEC 19/11: invalidate deletes the data and removes the cookie', async () => {
      await browser.get('/count');
      const oldCookie = browser.cookieHeader();
      const out = await browser.post('/logout');
      expect(out.status).toBe(200);
      expect(out.setCookies).toHaveLength(1);
      expect(isExpired(out.setCookies[0]!)).toBe(true);
      expect(browser.cookieHeader()).toBe('');
      expect((await new Browser(main.server.url, oldCookie).get('/read')).body).toBe('0');
    });

    it('SPEC 20: regenerate moves the data to a new id; the old cookie then reads empty', async () => {
      await browser.get('/count');
      const oldCookie = browser.cookieHeader();
      const login = await browser.post('/login');
      expect(login.setCookies).toHaveLength(1);
      expect(browser.cookieHeader()).not.toBe(oldCookie);
      expect((await browser.get('/read')).body).toBe('1');
      expect((await browser.get('/user')).body).toBe('alice');
      const old = new Browser(main.server.url, oldCookie);
      expect((await old.get('/read')).body).toBe('0');
      expect((await old.get('/user')).body).toBe('');
    });

    it('SPEC 21: a well-signed id the store does not know is never adopted', async () => {
      const unknown = main.manager.clientIds.issue(request());
      const visitor = new Browser(main.server.url, `tsession=${unknown.id}`);
      const answer = await visitor.get('/count');
      expect(answer.body).toBe('1');
      expect(answer.setCookies).toHaveLength(1);
      expect(answer.setCookies[0]?.value).not.toBe(unknown.id);
    });

    it('SPEC 31: a write then a redirect, followed at once by the next request, sees the data', async () => {
      store().commitLatencyMs = 30;
      const redirect = await browser.get('/redirect');
      expect(redirect.status).toBe(302);
      expect(redirect.headers.get('location')).toBe('/read');
      expect(redirect.setCookies).toHaveLength(1);
      expect((await browser.get('/read')).body).toBe('1');
    });

    it('SPEC 32: a handler that throws after writing answers 500 and writes nothing', async () => {
      await browser.get('/count');
      store().reset();
      const boom = await browser.get('/boom');
      expect(boom.status).toBe(500);
      expect(boom.setCookies).toHaveLength(0);
      expect(store().commits).toBe(0);
      expect((await browser.get('/read')).body).toBe('1');
      const stranger = await new Browser(main.server.url).get('/boom');
      expect(stranger.status).toBe(500);
      expect(stranger.setCookies).toHaveLength(0);
    });

    it('SPEC 33: an unserializable value answers 500 and nothing of the request is written', async () => {
      await browser.get('/count');
      store().reset();
      const answer = await browser.get('/unserializable');
      expect(answer.status).toBe(500);
      expect(answer.body).not.toContain('never committed');
      expect(answer.setCookies).toHaveLength(0);
      expect(store().commits).toBe(0);
      expect((await browser.get('/read')).body).toBe('1');
    });

    it('SPEC 36: two concurrent read-then-writes of one key: one 200, one 409, the winner kept', async () => {
      await browser.get('/count');
      const both = Promise.all([browser.get('/conflict'), browser.get('/conflict')]);
      await gate.waitFor(2);
      gate.open();
      const answers = await both;
      expect(answers.map((a) => a.status).sort()).toEqual([200, 409]);
      expect(answers.find((a) => a.status === 200)?.body).toBe('2');
      expect(answers.find((a) => a.status === 409)?.setCookies).toHaveLength(0);
      expect((await browser.get('/read')).body).toBe('2');
    });

    if (options.retry) {
      it('SPEC 36: with conflict retry, both concurrent increments are kept', async () => {
        await browser.get('/count');
        const both = Promise.all([browser.get('/conflict-retry'), browser.get('/conflict-retry')]);
        await gate.waitFor(2);
        gate.open();
        const answers = await both;
        expect(answers.map((a) => a.status)).toEqual([200, 200]);
        expect(answers.map((a) => a.body).sort()).toEqual(['2', '3']);
        expect(gate.arrived).toBe(3);
        expect((await browser.get('/read')).body).toBe('3');
      });
    }

    it('SPEC 39: a store that is down answers 503 and sends no cookie; the data survives', async () => {
      await browser.get('/count');
      store().down = true;
      const down = await browser.get('/count');
      expect(down.status).toBe(503);
      expect(down.setCookies).toHaveLength(0);
      store().down = false;
      expect((await browser.get('/read')).body).toBe('1');
    });

    it('issue 11 finding 8: a stopped PostgreSQL answers 503 with a generic body; host, port and driver text stay out', async () => {
      const port = await deadPort();
      const dead = new PostgresStore({ connectionString: `postgres://postgres@127.0.0.1:${port}/test`, schema: 'x' });
      const manager = new SessionManager({
        clientIds: new CookieClientIdManager({ secret: SECRET }),
        container: new SessionDataContainer({ store: dead }),
      });
      const server = await start(manager, routes, { trustProxy: false });
      try {
        const answer = await new Browser(server.url).get('/count');
        expect(answer.status).toBe(503);
        expect(answer.setCookies).toHaveLength(0);
        for (const secret of ['127.0.0.1', `:${port}`, 'connect ', 'postgres://']) {
          expect(answer.body).not.toContain(secret);
        }
      } finally {
        await server.close();
        await manager.close();
      }
    });

    it('a streamed (chunked) response carries the cookie and is committed before its head', async () => {
      store().commitLatencyMs = 30;
      const answer = await browser.get('/stream');
      expect(answer.status).toBe(200);
      expect(answer.body).toBe('chunk-1;chunk-2;count=1');
      expect(answer.headers.get('content-length')).toBeNull();
      expect(answer.setCookies).toHaveLength(1);
      expect((await browser.get('/read')).body).toBe('1');
    });

    it('a response with Content-Length keeps it, carries the cookie and is committed', async () => {
      store().commitLatencyMs = 30;
      const answer = await browser.get('/length');
      expect(answer.status).toBe(200);
      expect(answer.body).toBe('count=1');
      expect(answer.headers.get('content-length')).toBe('7');
      expect(answer.setCookies).toHaveLength(1);
      expect((await browser.get('/read')).body).toBe('1');
    });

    it('cookie attributes as a browser parses them: HttpOnly, SameSite=Lax, Path=/, no Secure over http', async () => {
      const [cookie] = (await browser.get('/count')).setCookies;
      expect(cookie?.attributes.get('path')).toBe('/');
      expect(cookie?.attributes.has('httponly')).toBe(true);
      expect(cookie?.attributes.get('samesite')?.toLowerCase()).toBe('lax');
      expect(cookie?.attributes.has('secure')).toBe(false);
      expect(cookie?.attributes.has('expires')).toBe(false);
      const spoofed = await new Browser(main.server.url).get('/count', { 'x-forwarded-proto': 'https' });
      expect(spoofed.setCookies[0]?.attributes.has('secure')).toBe(false);
    });

    it('the cookie is Secure behind a trusted proxy that says https', async () => {
      const visitor = new Browser(proxied.server.url);
      const https = await visitor.get('/count', { 'x-forwarded-proto': 'https' });
      expect(https.setCookies[0]?.attributes.has('secure')).toBe(true);
      const http = await new Browser(proxied.server.url).get('/count', { 'x-forwarded-proto': 'http' });
      expect(http.setCookies[0]?.attributes.has('secure')).toBe(false);
    });
  });
}
