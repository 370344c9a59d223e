import { SqliteStore } from 'tsession/sqlite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { start } from './server.js';

/** A SqliteStore (in memory) that can hold loads until `n` requests have loaded, so they race to commit. */
class RacingStore extends SqliteStore {
  #waiting: (() => void)[] = [];
  #racers = 0;
  race(n: number) {
    this.#racers = n;
  }
  override async load(key: string, now: number) {
    const loaded = await super.load(key, now);
    if (this.#racers > 0) {
      const held = new Promise<void>((go) => this.#waiting.push(go));
      if (this.#waiting.length >= this.#racers) {
        this.#racers = 0;
        for (const go of this.#waiting.splice(0)) go();
      }
      await held;
    }
    return loaded;
  }
}

let store: RacingStore;
let server: Awaited<ReturnType<typeof start>>;
beforeEach(async () => {
  store = new RacingStore({ path: ':memory:' });
  server = await start({ port: 0, secret: 'example-secret-0123456789-abcdefghij', store });
});
afterEach(() => server.close());

/** A browser with one cookie, kept by hand; redirects are not followed. */
function client() {
  let cookie: string | undefined;
  return async (method: string, path: string, form?: Record<string, string>) => {
    const res = await fetch(server.url + path, {
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

describe('examples/hono', () => {
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
