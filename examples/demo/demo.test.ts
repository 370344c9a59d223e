import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDemoServer, type DemoServer } from './server.js';

/** One HTTP exchange, cookies handled by hand. */
interface Answer {
  status: number;
  location: string | null;
  /** The tsession cookie's value from Set-Cookie: '' when it is removed, undefined when not sent. */
  cookie: string | undefined;
  setCookie: string | undefined;
  body: string;
}

let dataDir: string;
let demo: DemoServer | undefined;

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'tsession-demo-'));
});

afterEach(async () => {
  await demo?.close();
  demo = undefined;
  rmSync(dataDir, { recursive: true, force: true });
});

async function start(): Promise<DemoServer> {
  demo = await createDemoServer({ dataDir, port: 0 });
  return demo;
}

async function call(path: string, init: { cookie?: string | undefined; form?: Record<string, string> } = {}) {
  const headers: Record<string, string> = {};
  if (init.cookie) headers.cookie = `tsession=${init.cookie}`;
  if (init.form) headers['content-type'] = 'application/x-www-form-urlencoded';
  const res = await fetch(new URL(path, demo?.url), {
    method: init.form ? 'POST' : 'GET',
    headers,
    redirect: 'manual',
    ...(init.form && { body: new URLSearchParams(init.form).toString() }),
  });
  const setCookie = res.headers.getSetCookie().find((c) => c.startsWith('tsession='));
  const answer: Answer = {
    status: res.status,
    location: res.headers.get('location'),
    cookie: setCookie?.slice('tsession='.length).split(';')[0],
    setCookie,
    body: await res.text(),
  };
  return answer;
}

const visits = (a: Answer) => Number(/<div class="big">(\d+)<\/div>/.exec(a.body)?.[1]);
const cartItems = (a: Answer) => [...a.body.matchAll(/<li><span>(.*?)<\/span>/g)].map((m) => m[1]);

/** A visit to `/` by a new client: its cookie. */
async function newClient(): Promise<string> {
  const first = await call('/');
  expect(first.cookie).toBeTruthy();
  return first.cookie as string;
}

describe('demo app over real HTTP', () => {
  it('counts visits and reports where the id came from', async () => {
    await start();
    const first = await call('/');
    expect(visits(first)).toBe(1);
    expect(first.body).toContain('New in this request: <b>yes</b>');
    const second = await call('/', { cookie: first.cookie });
    const third = await call('/', { cookie: first.cookie });
    expect([visits(second), visits(third)]).toEqual([2, 3]);
    expect(third.body).toContain('New in this request: <b>no</b>');
    expect(third.body).toContain('Id read from: <b>cookie</b>');
    expect(third.setCookie).toBeUndefined();
  });

  it("keeps 'demo.prefs' and 'shop.prefs' color apart, and POST-redirect-GET sees them at once", async () => {
    await start();
    const cookie = await newClient();
    const a = await call('/prefs', { cookie, form: { pkg: 'demo', color: '#112233' } });
    const b = await call('/prefs', { cookie, form: { pkg: 'shop', color: '#AABBCC' } });
    expect([a.status, a.location, b.status, b.location]).toEqual([303, '/', 303, '/']);
    const page = await call('/', { cookie });
    const shown = [...page.body.matchAll(/<code>(demo|shop)\.prefs<\/code>[\s\S]*?<code>(#[0-9a-f]{6})<\/code>/g)];
    expect(shown.map((m) => [m[1], m[2]])).toEqual([
      ['demo', '#112233'],
      ['shop', '#aabbcc'],
    ]);
    expect((await call('/prefs', { cookie, form: { pkg: 'demo', color: 'red;}' } })).status).toBe(400);
  });

  it('saves the cart mutated in place, and escapes what it shows', async () => {
    await start();
    const cookie = await newClient();
    for (const item of ['teapot', 'kettle', '<script>alert(1)</script>']) {
      const added = await call('/cart/add', { cookie, form: { item } });
      expect([added.status, added.location]).toEqual([303, '/cart']);
    }
    const cart = await call('/cart', { cookie });
    expect(cartItems(cart)).toEqual(['teapot', 'kettle', '&lt;script&gt;alert(1)&lt;/script&gt;']);
    expect(cart.body).not.toContain('<script>');
    await call('/cart/remove', { cookie, form: { index: '0' } });
    expect(cartItems(await call('/cart', { cookie }))).toEqual(['kettle', '&lt;script&gt;alert(1)&lt;/script&gt;']);
    expect(visits(await call('/', { cookie }))).toBe(2);
    await call('/cart/clear', { cookie, form: {} });
    expect(cartItems(await call('/cart', { cookie }))).toEqual([]);
  });

  it('login regenerates the id (the old cookie is dead) and logout removes the cookie', async () => {
    await start();
    const old = await newClient();
    const login = await call('/login', { cookie: old, form: { username: 'Ada <admin>' } });
    expect([login.status, login.location]).toEqual([303, '/']);
    const fresh = login.cookie as string;
    expect(fresh).toBeTruthy();
    expect(fresh).not.toBe(old);

    const home = await call('/', { cookie: fresh });
    expect(home.body).toContain('Signed in as <b>Ada &lt;admin&gt;</b>');
    expect(visits(home)).toBe(2); // the data moved to the new id

    const stale = await call('/', { cookie: old });
    expect(visits(stale)).toBe(1);
    expect(stale.body).toContain('does not know');
    expect(stale.body).not.toContain('Signed in as');
    expect(stale.cookie).toBeTruthy();
    expect(stale.cookie).not.toBe(old);

    const logout = await call('/logout', { cookie: fresh, form: {} });
    expect([logout.status, logout.location, logout.cookie]).toEqual([303, '/', '']);
    expect(logout.setCookie).toMatch(/Expires=Thu, 01 Jan 1970/);
    const after = await call('/', { cookie: fresh });
    expect(visits(after)).toBe(1);
    expect(after.body).not.toContain('Signed in as');
  });

  it('answers 404, 405, 415 and 400 with pages', async () => {
    await start();
    expect((await call('/nowhere')).status).toBe(404);
    expect((await call('/login')).status).toBe(405);
    const json = await fetch(new URL('/login', demo?.url), { method: 'POST', body: '{}' });
    expect(json.status).toBe(415);
    expect((await call('/login', { form: { username: '  ' } })).status).toBe(400);
  });

  it('survives a restart: the same cookie still sees the counter and the cart', async () => {
    const first = await start();
    const cookie = await newClient();
    await call('/', { cookie });
    await call('/cart/add', { cookie, form: { item: 'teapot' } });
    await call('/cart/add', { cookie, form: { item: 'kettle' } });
    await first.close();

    await start();
    expect(visits(await call('/', { cookie }))).toBe(3);
    expect(cartItems(await call('/cart', { cookie }))).toEqual(['teapot', 'kettle']);
  });

  it('mounts the admin page behind the login: only the admin user gets in, and can delete a session', async () => {
    await start();
    expect((await call('/admin/')).status).toBe(403);
    const visitor = await call('/');
    const guest = await call('/login', { cookie: visitor.cookie, form: { username: 'mallory' } });
    expect((await call('/admin/', { cookie: guest.cookie })).status).toBe(403);

    const admin = await call('/login', { cookie: (await call('/')).cookie, form: { username: 'admin' } });
    const list = await call('/admin/', { cookie: admin.cookie });
    expect(list.status).toBe(200);
    const visitorKey = visitor.cookie?.slice(0, 24) as string;
    const guestKey = guest.cookie?.slice(0, 24) as string;
    expect(list.body).toContain(guestKey);
    expect(list.body).not.toContain(visitorKey); // regenerated away at login

    const detail = await call(`/admin/session/${guestKey}`, { cookie: admin.cookie });
    expect(detail.body).toContain('mallory');
  });

  it('keeps its generated secret in <data>/secret with mode 0600', async () => {
    await start();
    expect(statSync(join(dataDir, 'secret')).mode & 0o777).toBe(0o600);
  });
});

describe('npm start', () => {
  let child: ChildProcess | undefined;
  afterEach(() => {
    if (child?.exitCode === null) child.kill('SIGKILL');
  });

  it('prints a URL that answers 200, and shuts down cleanly on SIGTERM', async () => {
    const repo = fileURLToPath(new URL('../..', import.meta.url));
    const { SESSION_SECRET: _, ...env } = process.env;
    const proc = spawn(
      process.execPath,
      ['--conditions=tsession-source', '--import', 'tsx', 'examples/demo/server.ts'],
      {
        cwd: repo,
        env: { ...env, PORT: '0', TSESSION_DEMO_DATA: dataDir },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    child = proc;
    let out = '';
    let err = '';
    proc.stderr?.on('data', (d) => (err += d));
    const exited = new Promise<number | null>((done) => proc.once('exit', (code) => done(code)));
    const url = await new Promise<string>((done, fail) => {
      proc.stdout?.on('data', (d) => {
        out += d;
        const match = /Listening on (http:\/\/\S+)/.exec(out);
        if (match) done(match[1] as string);
      });
      proc.once('exit', (code) => fail(new Error(`exited with ${code} before listening:\n${out}\n${err}`)));
    });
    expect(out).toContain(join(dataDir, 'secret'));
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('tsession demo');
    proc.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(out).toContain('Bye.');
  });
});
