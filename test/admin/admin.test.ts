import { describe, expect, it } from 'vitest';
import { createAdminHandler } from '../../src/admin/index.js';
import { SessionConfigError } from '../../src/index.js';
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
