/**
 * The one test suite every framework example passes, over real HTTP: the counter behind
 * `retryOnConflict` under a forced race, the cart mutated in place, login and logout,
 * and the page read through template paths.
 */
import type { SessionStore } from 'tsession';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

/** How an example starts: its `start()` from `server.ts`. */
export type StartExample = (options: {
  port: number;
  secret: string;
  store: SessionStore;
}) => Promise<{ url: string; close(): Promise<void> }>;

/** Wraps a store's `load` so that, once armed, `n` requests wait for each other after loading and race to commit. */
function racing<S extends SessionStore>(store: S): S & { race(n: number): void } {
  const waiting: (() => void)[] = [];
  let racers = 0;
  const load = store.load.bind(store);
  return Object.assign(store, {
    race(n: number) {
      racers = n;
    },
    async load(key: string, now: number) {
      const loaded = await load(key, now);
      if (racers > 0) {
        const held = new Promise<void>((go) => waiting.push(go));
        if (waiting.length >= racers) {
          racers = 0;
          for (const go of waiting.splice(0)) go();
        }
        await held;
      }
      return loaded;
    },
  });
}

/** A browser with one cookie, kept by hand; redirects are not followed. */
function browser(base: () => string) {
  let cookie: string | undefined;
  return async (method: string, path: string, form?: Record<string, string>) => {
    const res = await fetch(base() + path, {
      method,
      redirect: 'manual',
      headers: {
        ...(cookie && { cookie }),
        ...(form && { 'content-type': 'application/x-www-form-urlencoded' }),
      },
      ...(form && { body: new URLSearchParams(form).toString() }),
    });
    const setCookie = res.headers.getSetCookie().find((c) => c.startsWith('tsession='));
    if (setCookie) cookie = /Max-Age=0|Expires=Thu, 01 Jan 1970/i.test(setCookie) ? undefined : setCookie.split(';')[0];
    return { status: res.status, body: await res.text(), setCookie, cookie };
  };
}

const shown = (html: string, id: string) => new RegExp(`<span id="${id}">(.*?)</span>`).exec(html)?.[1];

/** Runs the example suite against one framework's example. */
export function describeExample(name: string, start: StartExample, makeStore: () => SessionStore): void {
  describe(`examples/${name}`, () => {
    let store: ReturnType<typeof racing<SessionStore>>;
    let server: Awaited<ReturnType<StartExample>>;
    const client = () => browser(() => server.url);
    beforeEach(async () => {
      store = racing(makeStore());
      server = await start({ port: 0, secret: 'example-secret-0123456789-abcdefghij', store });
    });
    afterEach(() => server.close());

    it('counts per client, and the retried counter loses no update under concurrent posts', async () => {
      const ada = client();
      const first = await ada('POST', '/counter');
      expect(JSON.parse(first.body)).toEqual({ n: 1 });
      expect(first.setCookie).toMatch(/^tsession=.+HttpOnly/);
      expect(JSON.parse((await ada('POST', '/counter')).body)).toEqual({ n: 2 });
      store.race(3); // the three requests all read n = 2 before any commits: two of them must run again
      const together = await Promise.all([ada('POST', '/counter'), ada('POST', '/counter'), ada('POST', '/counter')]);
      expect(together.map((a) => a.status)).toEqual([200, 200, 200]);
      expect(together.map((a) => JSON.parse(a.body).n).sort()).toEqual([3, 4, 5]);
      expect(JSON.parse((await client()('POST', '/counter')).body)).toEqual({ n: 1 });
    });

    it('keeps a cart mutated in place', async () => {
      const ada = client();
      expect((await ada('POST', '/cart', { item: 'apple' })).status).toBe(303);
      await ada('POST', '/cart', { item: 'pear' });
      expect(JSON.parse((await ada('GET', '/cart')).body)).toEqual({ items: ['apple', 'pear'] });
    });

    it('login regenerates the cookie and keeps the data; the old id is dead; logout removes the cookie', async () => {
      const ada = client();
      const before = (await ada('POST', '/cart', { item: 'apple' })).cookie;
      const login = await ada('POST', '/login', { user: 'ada' });
      expect(login.status).toBe(303);
      expect(login.cookie).toBeDefined();
      expect(login.cookie).not.toBe(before);
      const page = await ada('GET', '/');
      expect(shown(page.body, 'user')).toBe('ada');
      expect(shown(page.body, 'cart')).toBe('apple');
      const stale = await fetch(`${server.url}/cart`, { headers: { cookie: before as string } });
      expect(await stale.json()).toEqual({ items: [] });
      expect((await ada('POST', '/login', { user: '<script>' })).status).toBe(400);
      const logout = await ada('POST', '/logout');
      expect(logout.setCookie).toMatch(/^tsession=;|Max-Age=0|Expires=Thu, 01 Jan 1970/i);
      expect(shown((await ada('GET', '/')).body, 'user')).toBe('guest');
    });

    it('renders the page through template paths, escaped, without creating a session', async () => {
      const visitor = client();
      const page = await visitor('GET', '/');
      expect(page.status).toBe(200);
      expect(page.setCookie).toBeUndefined();
      expect([shown(page.body, 'user'), shown(page.body, 'counter'), shown(page.body, 'cart')]).toEqual([
        'guest',
        '0',
        'empty',
      ]);
      await visitor('POST', '/counter');
      await visitor('POST', '/cart', { item: '<b>tea</b>' });
      await visitor('POST', '/cart', { item: 'milk' });
      const after = await visitor('GET', '/');
      expect(shown(after.body, 'counter')).toBe('1');
      expect(shown(after.body, 'cart')).toBe('&lt;b&gt;tea&lt;/b&gt;, milk');
    });
  });
}
