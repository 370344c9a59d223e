import { describe, expect, it } from 'vitest';
import { CookieClientIdManager, SessionConfigError } from '../../src/index.js';
import {
  browser,
  cookieAttributes,
  cookieFrom,
  countCalls,
  headerValues,
  keyOf,
  manualClock,
  memoryManager,
  OTHER_SECRET,
  request,
  SECRET,
} from '../helpers.js';

const ID_FORMAT = /^[A-Za-z0-9_-]{24}\.[A-Za-z0-9_-]{43}$/;

describe('SPEC 1-3: one cookie, round trips, lifetime', () => {
  it('SPEC 1: two reads of the client id in one request give the same id and exactly one Set-Cookie', async () => {
    const { manager } = memoryManager();
    const session = manager.open(request());
    const first = session.clientId;
    const second = session.clientId;
    (await session.get('counter')).set('count', 1);
    expect(session.clientId).toBe(first);
    await session.commit();
    expect(second).toBe(first);
    const setCookies = headerValues(session.responseHeaders, 'set-cookie');
    expect(setCookies).toHaveLength(1);
    expect(cookieFrom(session.responseHeaders)).toBe(`tsession=${first}`);
  });

  it('SPEC 2: a request that sends the cookie back gets the same id and no Set-Cookie (lifetime undefined or 0)', async () => {
    for (const lifetime of [undefined, 0]) {
      const { manager } = memoryManager({ cookie: lifetime === undefined ? {} : { lifetime } });
      const client = browser(manager);
      const { result: id } = await client.visit(async (s) => {
        (await s.get('counter')).set('count', 1);
        return s.clientId;
      });
      const second = await client.visit(async (s) => {
        expect((await s.get('counter')).get('count')).toBe(1);
        return s.clientId;
      });
      expect(second.result).toBe(id);
      expect(headerValues(second.headers, 'set-cookie')).toEqual([]);
    }
  });

  it('SPEC 3: lifetime N > 0 re-sends the cookie with a fresh expiry at most once per resolution', async () => {
    const clock = manualClock(1_000);
    const { manager } = memoryManager({ clock, cookie: { lifetime: 86_400 }, container: { resolution: 600 } });
    const client = browser(manager);
    const first = await client.visit(async (s) => (await s.get('counter')).set('count', 1));
    const expiresOf = (headers: typeof first.headers) =>
      Date.parse(cookieAttributes(headerValues(headers, 'set-cookie')[0] as string).attrs.get('expires') as string);
    expect(expiresOf(first.headers)).toBe((1_000 + 86_400) * 1000);

    for (const t of [1_100, 1_599, 1_600]) {
      clock.set(t);
      const inside = await client.visit(async (s) => (await s.get('counter')).get('count'));
      expect(headerValues(inside.headers, 'set-cookie'), `at ${t}`).toEqual([]);
    }

    clock.set(1_601);
    const touched = await client.visit(async (s) => (await s.get('counter')).get('count'));
    expect(expiresOf(touched.headers)).toBe((1_601 + 86_400) * 1000);
    clock.set(1_700);
    const again = await client.visit(async (s) => (await s.get('counter')).get('count'));
    expect(headerValues(again.headers, 'set-cookie')).toEqual([]);
  });
});

describe('SPEC 6-8: invalid ids, format, cache prevention', () => {
  const valid = new CookieClientIdManager({ secret: SECRET }).issue(request()).id;
  const foreign = new CookieClientIdManager({ secret: OTHER_SECRET }).issue(request()).id;
  const last = valid.at(-1) as string;
  const cases: Record<string, string> = {
    missing: '',
    malformed: 'not-an-id',
    truncated: valid.slice(0, -1),
    'foreign-secret': foreign,
    'tampered key': `${valid[0] === 'A' ? 'B' : 'A'}${valid.slice(1)}`,
    'tampered tag': `${valid.slice(0, -1)}${last === 'A' ? 'Q' : 'A'}`,
    'tag differing only in unused bits': `${valid.slice(0, -1)}${unusedBitsTwin(last)}`,
    'extra character': `${valid}A`,
  };

  for (const [label, raw] of Object.entries(cases)) {
    it(`SPEC 6: a ${label} id is treated as no id: no error, no store read, a new id only on write`, async () => {
      const { manager, store } = memoryManager();
      const calls = countCalls(store);
      const cookie = raw === '' ? {} : { cookie: `tsession=${raw}` };

      const reader = manager.open(request(cookie));
      expect((await reader.get('counter')).get('count')).toBeUndefined();
      expect(reader.idSource).toBeUndefined();
      await reader.commit();
      expect(reader.responseHeaders).toEqual([]);
      expect(calls.load).toBe(0);

      const writer = manager.open(request(cookie));
      (await writer.get('counter')).set('count', 1);
      await writer.commit();
      const issued = cookieFrom(writer.responseHeaders);
      expect(issued).toMatch(/^tsession=/);
      expect(issued).not.toBe(`tsession=${raw}`);
      expect(calls.load).toBe(0);
    });
  }

  it('SPEC 6: a bad cookie of the same name ahead of the valid one does not hide the session', async () => {
    const { manager } = memoryManager();
    const first = manager.open(request());
    (await first.get('counter')).set('count', 7);
    await first.commit();
    const good = cookieFrom(first.responseHeaders) as string;
    const planted = manager.open(request({ cookie: `tsession=${cases['tampered tag']}; other=1; ${good}` }));
    expect((await planted.get('counter')).get('count')).toBe(7);
    expect(planted.idSource).toBe('cookie');
  });

  it('SPEC 7: 10,000 new ids never collide, match the format, and verify only with the secret that made them', () => {
    const { manager } = memoryManager();
    const ids = new Set<string>();
    for (let i = 0; i < 10_000; i++) ids.add(manager.open(request()).clientId);
    expect(ids.size).toBe(10_000);
    for (const id of ids) expect(id).toMatch(ID_FORMAT);
    const [sample] = ids;
    const same = new CookieClientIdManager({ secret: SECRET });
    const other = new CookieClientIdManager({ secret: OTHER_SECRET });
    expect(same.read(request({ cookie: `tsession=${sample}` }))?.id).toBe(sample);
    expect(other.read(request({ cookie: `tsession=${sample}` }))).toBeUndefined();
  });

  it('SPEC 7: secret rotation: an id signed by an old secret verifies, is re-sent signed by the first, same store key', async () => {
    const clock = manualClock();
    const old = memoryManager({ clock });
    const client = browser(old.manager);
    const { result: oldId } = await client.visit(async (s) => {
      (await s.get('cart')).set('items', ['apple']);
      return s.clientId;
    });

    const rotated = memoryManager({ clock, store: old.store, cookie: { secret: [OTHER_SECRET, SECRET] } });
    const session = rotated.manager.open(request({ cookie: client.cookie as string }));
    expect((await session.get('cart')).get('items')).toEqual(['apple']);
    expect(session.idSource).toBe('cookie');
    const newId = session.clientId;
    await session.commit();
    expect(newId).not.toBe(oldId);
    expect(keyOf(newId)).toBe(keyOf(oldId));
    expect(cookieFrom(session.responseHeaders)).toBe(`tsession=${newId}`);

    const onlyNew = memoryManager({ clock, store: old.store, cookie: { secret: OTHER_SECRET } });
    const later = onlyNew.manager.open(request({ cookie: `tsession=${newId}` }));
    expect((await later.get('cart')).get('items')).toEqual(['apple']);
    await later.commit();
    expect(later.responseHeaders).toEqual([]);
  });

  it('SPEC 8: every response that sets the cookie sends the cache-prevention headers', async () => {
    const clock = manualClock(1_000);
    const expectCachePrevention = (headers: readonly (readonly [string, string])[], cacheControl: string) => {
      expect(headerValues(headers, 'set-cookie')).toHaveLength(1);
      expect(headerValues(headers, 'cache-control')).toEqual([cacheControl]);
      expect(headerValues(headers, 'pragma')).toEqual(['no-cache']);
      const [expires] = headerValues(headers, 'expires');
      expect(Date.parse(expires as string)).toBeLessThan(Date.now());
    };
    for (const strictCacheControl of [false, true]) {
      const cacheControl = strictCacheControl ? 'private, no-store' : 'no-cache="Set-Cookie, Set-Cookie2"';
      const { manager } = memoryManager({ clock, cookie: { lifetime: 1_000, strictCacheControl } });
      const client = browser(manager);
      // a new id
      const created = await client.visit(async (s) => (await s.get('p')).set('k', 1));
      expectCachePrevention(created.headers, cacheControl);
      // a refreshed expiry
      clock.advance(700);
      const refreshed = await client.visit(async (s) => (await s.get('p')).get('k'));
      expectCachePrevention(refreshed.headers, cacheControl);
      // a removed cookie
      const removed = await client.visit((s) => s.invalidate());
      expectCachePrevention(removed.headers, cacheControl);
    }
  });
});

describe('SPEC 9: cookie attributes', () => {
  async function setCookieOf(
    cookie: ConstructorParameters<typeof CookieClientIdManager>[0] | object = {},
    secure = false,
  ): Promise<ReturnType<typeof cookieAttributes>> {
    const { manager } = memoryManager({ cookie });
    const session = manager.open(request({ secure }));
    void session.clientId;
    await session.commit();
    const [value] = headerValues(session.responseHeaders, 'set-cookie');
    return cookieAttributes(value as string);
  }

  it('SPEC 9: defaults: Path=/, HttpOnly, SameSite=Lax, no Expires, no Domain, Secure only over HTTPS', async () => {
    const plain = await setCookieOf();
    expect(plain.name).toBe('tsession');
    expect(plain.value).toMatch(ID_FORMAT);
    expect(Object.fromEntries(plain.attrs)).toEqual({ path: '/', httponly: true, samesite: 'Lax' });
    const https = await setCookieOf({}, true);
    expect(Object.fromEntries(https.attrs)).toEqual({ path: '/', httponly: true, samesite: 'Lax', secure: true });
  });

  it('SPEC 9: lifetime 0 gives a far-future expiry; lifetime N an expiry N seconds after the clock', async () => {
    const forever = await setCookieOf({ lifetime: 0 });
    expect(new Date(forever.attrs.get('expires') as string).getUTCFullYear()).toBe(9999);
    const day = await setCookieOf({ lifetime: 86_400 });
    expect(Date.parse(day.attrs.get('expires') as string)).toBe((1_000 + 86_400) * 1000);
  });

  it('SPEC 9: Secure, Domain, HttpOnly, SameSite and Partitioned appear exactly as configured', async () => {
    const configured = await setCookieOf({
      name: 'sid',
      domain: 'example.com',
      path: '/app',
      secure: true,
      httpOnly: false,
      sameSite: 'strict',
      partitioned: true,
    });
    expect(configured.name).toBe('sid');
    expect(Object.fromEntries(configured.attrs)).toEqual({
      domain: 'example.com',
      path: '/app',
      samesite: 'Strict',
      secure: true,
      partitioned: true,
    });
    const none = await setCookieOf({ sameSite: 'none', secure: true });
    expect(none.attrs.get('samesite')).toBe('None');
    expect(none.attrs.get('secure')).toBe(true);
    const insecure = await setCookieOf({ secure: false }, true);
    expect(insecure.attrs.has('secure')).toBe(false);
    const auto = await setCookieOf({ secure: 'auto' }, true);
    expect(auto.attrs.get('secure')).toBe(true);
  });

  it('SPEC 9: __Host- refuses a domain and forces Path=/ and Secure; __Secure- forces Secure', async () => {
    const host = await setCookieOf({ prefix: '__Host-' });
    expect(host.name).toBe('__Host-tsession');
    expect(host.attrs.get('path')).toBe('/');
    expect(host.attrs.get('secure')).toBe(true);
    expect(host.attrs.has('domain')).toBe(false);
    expect(() => new CookieClientIdManager({ secret: SECRET, prefix: '__Host-', domain: 'example.com' })).toThrow(
      /CookieClientIdManager: the __Host- prefix forbids `domain`/,
    );
    expect(() => new CookieClientIdManager({ secret: SECRET, prefix: '__Host-', path: '/app' })).toThrow(
      SessionConfigError,
    );
    expect(() => new CookieClientIdManager({ secret: SECRET, prefix: '__Host-', secure: false })).toThrow(
      SessionConfigError,
    );

    const secure = await setCookieOf({ prefix: '__Secure-', domain: 'example.com', path: '/app' });
    expect(secure.name).toBe('__Secure-tsession');
    expect(secure.attrs.get('secure')).toBe(true);
    expect(secure.attrs.get('domain')).toBe('example.com');
    expect(secure.attrs.get('path')).toBe('/app');
  });

  it('SPEC 9: construction errors are SessionConfigError with a message naming the fix', () => {
    const make = (options: object) => () => new CookieClientIdManager({ secret: SECRET, ...options });
    const missing = () => new CookieClientIdManager({} as never);
    expect(missing).toThrow(SessionConfigError);
    expect(missing).toThrow(/CookieClientIdManager needs a `secret`: pass at least 32 random characters/);
    expect(make({ secret: 'short' })).toThrow(/secret #1 is 5 characters; use at least 32/);
    expect(make({ secret: [SECRET, 'short'] })).toThrow(/secret #2 is 5 characters/);
    expect(make({ sameSite: 'none', secure: false })).toThrow(/`sameSite: 'none'` requires `secure`/);
    expect(make({ name: 'bad name' })).toThrow(/cookie name "bad name" is not a valid cookie token/);
    expect(make({ name: 'a;b' })).toThrow(SessionConfigError);
    expect(make({ path: 'app' })).toThrow(/`path` must start with "\/"/);
    expect(make({ lifetime: -1 })).toThrow(/`lifetime` must be a number of seconds/);
    expect(make({ domain: 'bad;domain' })).toThrow(/CookieClientIdManager: option domain is invalid: bad;domain/);
    expect(make({ path: '/a;b' })).toThrow(/option path is invalid/);
    try {
      missing();
    } catch (error) {
      expect((error as SessionConfigError).code).toBe('TSESSION_CONFIG');
    }
  });
});

describe('SPEC 11: invalidate removes the cookie', () => {
  it('SPEC 11: invalidate() sends an expired Set-Cookie with the same name, path and domain', async () => {
    const { manager } = memoryManager({ cookie: { name: 'sid', path: '/shop', domain: 'example.com' } });
    const client = browser(manager, 'sid');
    const created = await client.visit(async (s) => (await s.get('p')).set('k', 1));
    const set = cookieAttributes(headerValues(created.headers, 'set-cookie')[0] as string);

    const { headers } = await client.visit((s) => s.invalidate());
    const [removal] = headerValues(headers, 'set-cookie');
    const removed = cookieAttributes(removal as string);
    expect(removed.name).toBe(set.name);
    expect(removed.value).toBe('');
    expect(removed.attrs.get('path')).toBe('/shop');
    expect(removed.attrs.get('domain')).toBe('example.com');
    expect(Date.parse(removed.attrs.get('expires') as string)).toBe(0);
    expect(client.cookie).toBeUndefined();
  });
});

/** The base64url character that differs from `c` only in the two low bits a 43-character tag leaves unused. */
function unusedBitsTwin(c: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  return alphabet[alphabet.indexOf(c) ^ 1] as string;
}
