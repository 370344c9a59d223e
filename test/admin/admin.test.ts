import { describe, expect, it } from 'vitest';
import { createAdminHandler } from '../../src/admin/index.js';
import { SessionConfigError, StoreUnavailableError } from '../../src/index.js';
import { cookieFrom, manualClock, memoryManager, request } from '../helpers.js';

const ORIGIN = 'http://admin.test';

async function setup(sessions = 3) {
  const clock = manualClock();
  const env = { ...memoryManager({ clock }), clock };
  const keys: string[] = [];
  for (let i = 0; i < sessions; i++) {
    const s = env.manager.open(request());
    const data = await s.get(i === 0 ? 'admin.shop' : 'admin.visits');
    data.set('note', i === 0 ? '<script>alert(1)</script>' : i);
    await s.commit();
    keys.push((cookieFrom(s.responseHeaders) as string).split('=')[1]?.slice(0, 24) as string);
  }
  let allowed = true;
  const admin = createAdminHandler(env.manager, { basePath: '/admin/', authorize: () => allowed, pageSize: 2 });
  return { ...env, keys, admin, deny: () => (allowed = false) };
}

/** A GET, then the CSRF cookie and token a browser would carry into its next POST. */
async function csrfFrom(admin: (r: Request) => Promise<Response>) {
  const page = await admin(new Request(`${ORIGIN}/admin/`));
  const cookie = (page.headers.get('set-cookie') as string).split(';')[0] as string;
  const token = /name="csrf" value="([^"]+)"/.exec(await page.text())?.[1] as string;
  return { cookie, token };
}

function post(path: string, cookie: string, token: string | undefined, headers: Record<string, string> = {}) {
  const body = new URLSearchParams(token === undefined ? {} : { csrf: token });
  return new Request(`${ORIGIN}${path}`, { method: 'POST', body, headers: { cookie, ...headers } });
}

describe('SPEC 43: the admin page', () => {
  it('refuses every request unless authorize allows it', async () => {
    const { admin, deny } = await setup();
    deny();
    for (const path of ['/admin/', '/admin/assets/admin.js', '/admin/export', '/admin/api/stats']) {
      expect((await admin(new Request(`${ORIGIN}${path}`))).status).toBe(403);
    }
    expect(() => createAdminHandler(memoryManager().manager, {} as never)).toThrow(SessionConfigError);
  });

  it('lists sessions with paging and search, and shows one escaped and read-only', async () => {
    const { admin, keys } = await setup();
    const first = await (await admin(new Request(`${ORIGIN}/admin/`))).text();
    expect(first.match(/href="\/admin\/session\//g)).toHaveLength(2);
    expect(first).toContain('page=2');
    const second = await (await admin(new Request(`${ORIGIN}/admin/?page=2`))).text();
    expect(second.match(/href="\/admin\/session\//g)).toHaveLength(1);
    const search = await (await admin(new Request(`${ORIGIN}/admin/?q=admin.shop`))).text();
    expect(search).toContain(keys[0]);
    expect(search).not.toContain(keys[1]);

    const detail = await admin(new Request(`${ORIGIN}/admin/session/${keys[0]}`));
    const body = await detail.text();
    expect(body).toContain('admin.shop');
    expect(body).not.toContain('<script>alert(1)</script>');
    expect(body).toContain('&#60;script&#62;');
    expect(detail.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect((await admin(new Request(`${ORIGIN}/admin/session/nosuchkey`))).status).toBe(404);
  });

  it('deletes and sweeps only with a valid CSRF token from the same site', async () => {
    const { admin, keys, store, clock } = await setup();
    const { cookie, token } = await csrfFrom(admin);
    expect((await admin(post(`/admin/session/${keys[1]}/delete`, cookie, undefined))).status).toBe(403);
    expect((await admin(post(`/admin/session/${keys[1]}/delete`, cookie, 'x'.repeat(token.length)))).status).toBe(403);
    const crossSite = { 'sec-fetch-site': 'cross-site' };
    expect((await admin(post(`/admin/session/${keys[1]}/delete`, cookie, token, crossSite))).status).toBe(403);
    expect(await store.load(keys[1] as string, clock())).toBeDefined();

    const deleted = await admin(post(`/admin/session/${keys[1]}/delete`, cookie, token, { origin: ORIGIN }));
    expect(deleted.status).toBe(303);
    expect(deleted.headers.get('location')).toBe('/admin/?done=deleted');
    expect(await store.load(keys[1] as string, clock())).toBeUndefined();

    clock.advance(10_000);
    const swept = await admin(post('/admin/sweep', cookie, token));
    expect(swept.headers.get('location')).toBe('/admin/?done=swept&n=2');
  });

  it('exports live sessions as JSON Lines and reports live counts for the chart', async () => {
    const { admin } = await setup();
    const exported = await admin(new Request(`${ORIGIN}/admin/export`));
    expect(exported.headers.get('content-type')).toContain('application/x-ndjson');
    expect((await exported.text()).trim().split('\n')).toHaveLength(3);
    const stats = await (await admin(new Request(`${ORIGIN}/admin/api/stats`))).json();
    expect(stats.history.at(-1)).toMatchObject({ live: 3 });
    const js = await admin(new Request(`${ORIGIN}/admin/assets/admin.js`));
    expect(js.headers.get('content-type')).toContain('text/javascript');
  });
});

describe('issue 14 §1: the admin page by user', () => {
  it("filters by user, shows each row's user, and ends all of a user's sessions behind the CSRF check", async () => {
    const { admin, keys, store, clock, manager } = await setup(1);
    const users: Record<string, string> = {};
    for (const user of ['ann', 'ann', 'bob']) {
      const s = manager.open(request());
      s.setPrincipal(user);
      await s.commit();
      users[(cookieFrom(s.responseHeaders) as string).split('=')[1]?.slice(0, 24) as string] = user;
    }
    const anns = Object.keys(users).filter((k) => users[k] === 'ann');
    const page = await (await admin(new Request(`${ORIGIN}/admin/?user=ann`))).text();
    expect(page.match(/href="\/admin\/session\//g)).toHaveLength(2);
    for (const key of anns) expect(page).toContain(key);
    expect(page).toContain('End all 2 sessions of ann');
    expect(page).not.toContain(keys[0]);

    const { cookie, token } = await csrfFrom(admin);
    expect((await admin(post('/admin/user/ann/end', cookie, undefined))).status).toBe(403);
    for (const key of anns) expect(await store.load(key, clock())).toBeDefined();
    const ended = await admin(post('/admin/user/ann/end', cookie, token, { origin: ORIGIN }));
    expect(ended.headers.get('location')).toBe('/admin/?done=ended&n=2');
    for (const key of anns) expect(await store.load(key, clock())).toBeUndefined();
    expect(await (await admin(new Request(`${ORIGIN}/admin/?user=ann`))).text()).toContain('No live sessions of ann');
    const all = await (await admin(new Request(`${ORIGIN}/admin/`))).text();
    expect(all).toContain('href="/admin/?user=bob"');
  });
});

describe('issue 11 finding 7: the admin handler answers instead of throwing', () => {
  it('answers 400 to a malformed % escape, in a session path and in a delete path', async () => {
    const { admin } = await setup();
    const { cookie, token } = await csrfFrom(admin);
    for (const path of ['/admin/session/%E0%A4%A', '/admin/session/%', '/admin/%zz']) {
      const answer = await admin(new Request(`${ORIGIN}${path}`));
      expect(answer.status).toBe(400);
      expect(answer.headers.get('content-type')).toContain('text/plain');
    }
    expect((await admin(post('/admin/session/%ff/delete', cookie, token, { origin: ORIGIN }))).status).toBe(400);
  });

  it('answers 403 to a CSRF token of the right length in characters but another length in bytes', async () => {
    const { admin, keys, store, clock } = await setup();
    const { cookie, token } = await csrfFrom(admin);
    for (const forged of [
      'é'.repeat(token.length),
      `${token.slice(0, -1)}💥`.slice(0, token.length),
      '\0'.repeat(token.length),
    ]) {
      expect(forged.length).toBe(token.length);
      const answer = await admin(post(`/admin/session/${keys[1]}/delete`, cookie, forged, { origin: ORIGIN }));
      expect(answer.status).toBe(403);
    }
    expect(await store.load(keys[1] as string, clock())).toBeDefined();
  });

  it('renders a record whose times no Date can hold as text, on the list page and its own page', async () => {
    const { admin, store, clock } = await setup(1);
    const key = 'AAAAAAAAAAAAAAAAAAAAAAAA';
    // 1e13 s is past the largest Date (8.64e12 s): toISOString would throw RangeError.
    await store.commit(
      key,
      { create: true, touch: { lastAccess: 1e13, expiresAt: null }, writes: [{ pkg: 'p', key: 'k', value: '1' }] },
      clock(),
    );
    const list = await admin(new Request(`${ORIGIN}/admin/`));
    expect(list.status).toBe(200);
    const listed = await list.text();
    expect(listed).toContain(key);
    expect(listed).toContain('10000000000000 (not a valid time)');
    const own = await admin(new Request(`${ORIGIN}/admin/session/${key}`));
    expect(own.status).toBe(200);
    expect(await own.text()).toContain('(not a valid time)');
  });

  it('answers 503 with a generic text when the store fails, and 500 when authorize throws', async () => {
    const { admin, store } = await setup(1);
    // a store whose scan fails as a driver would, naming its host
    store.scan = () => {
      throw new StoreUnavailableError('the store at 10.0.0.1:6379 did not answer');
    };
    const answer = await admin(new Request(`${ORIGIN}/admin/`));
    expect(answer.status).toBe(503);
    expect(await answer.text()).not.toContain('10.0.0.1');
    const throwing = createAdminHandler(memoryManager().manager, {
      authorize: () => {
        throw new Error('directory at ldap://10.0.0.2 down');
      },
    });
    const refused = await throwing(new Request(`${ORIGIN}/`));
    expect(refused.status).toBe(500);
    expect(await refused.text()).not.toContain('10.0.0.2');
  });
});
