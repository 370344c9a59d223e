/**
 * Blind writes (`session.set(pkg, key, value)` / `session.delete(pkg, key)`) over real
 * HTTP through `tsession/http`, on every store: one store round trip and no load when
 * nothing is read, an unknown or expired id never adopted, reads in the same request
 * see the value, concurrent blind writes of different keys all kept, and a bound
 * session loaded (so another kind of client cannot write into it).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { withSessions } from '../../src/adapters/http/index.js';
import {
  CookieClientIdManager,
  SessionDataContainer,
  SessionManager,
  type SessionStore,
  userAgentClass,
} from '../../src/index.js';
import { countCalls, SECRET } from '../helpers.js';
import { everyStore } from '../support/every-store.js';

const { kinds, cleanup } = await everyStore('blind');
const opened: SessionStore[] = [];
afterAll(async () => {
  for (const store of opened) await store.close();
  await cleanup();
});
const stores = kinds.map((kind) => [kind.name, kind.available, kind.open] as const);

interface App {
  url: string;
  calls: { load: number; commit: number; destroy: number };
  close(): Promise<void>;
}

/** /set?k=&v= sets blind, /del?k= deletes blind, /setread?k=&v= sets blind then reads the package, /read returns it as JSON. */
async function startApp(store: SessionStore, fingerprint = false): Promise<App> {
  opened.push(store);
  const calls = countCalls(store);
  const manager = new SessionManager({
    clientIds: new CookieClientIdManager({ secret: SECRET }),
    container: new SessionDataContainer({ store }),
    ...(fingerprint && { fingerprint: userAgentClass }),
  });
  const server: Server = createServer(
    withSessions(manager, async (req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const k = url.searchParams.get('k') ?? 'k';
      const v = url.searchParams.get('v') ?? '';
      if (url.pathname === '/set') req.session.set('app.blind', k, v);
      else if (url.pathname === '/del') req.session.delete('app.blind', k);
      else if (url.pathname === '/setread') {
        req.session.set('app.blind', k, v);
        const data = await req.session.get('app.blind');
        return res.end(JSON.stringify(data.toJSON()));
      } else if (url.pathname === '/read') {
        const data = await req.session.get('app.blind');
        return res.end(JSON.stringify(data.toJSON()));
      }
      res.end('ok');
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, calls, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

async function get(app: App, path: string, cookie?: string, userAgent?: string) {
  const headers: Record<string, string> = {};
  if (cookie) headers.cookie = cookie;
  if (userAgent) headers['user-agent'] = userAgent;
  const response = await fetch(`${app.url}${path}`, { headers });
  const body = await response.text();
  const setCookie = response.headers.getSetCookie()[0]?.split(';')[0];
  return { status: response.status, body, setCookie };
}

describe.each(stores)('blind writes on %s', (_name, available, open) => {
  it.skipIf(!available)('start a session and update it in one commit each, with no load', async () => {
    const app = await startApp(await open());
    const first = await get(app, '/set?k=a&v=1');
    expect(first.status).toBe(200);
    expect(first.setCookie).toMatch(/^tsession=/);
    expect(app.calls).toEqual({ load: 0, commit: 1, destroy: 0 });

    const second = await get(app, '/set?k=b&v=2', first.setCookie);
    expect(second.status).toBe(200);
    expect(app.calls).toEqual({ load: 0, commit: 2, destroy: 0 });

    const deleted = await get(app, '/del?k=a', first.setCookie);
    expect(deleted.status).toBe(200);
    expect(app.calls).toEqual({ load: 0, commit: 3, destroy: 0 });

    expect(JSON.parse((await get(app, '/read', first.setCookie)).body)).toEqual({ b: '2' });
    await app.close();
  });

  it.skipIf(!available)('never adopt an id the store does not know: a fresh id holds the write', async () => {
    const app = await startApp(await open());
    const planted = (await get(app, '/set?k=x&v=planted')).setCookie as string;
    // A second app on an empty store: the signed id verifies but is unknown there.
    const other = await startApp(await open());
    const answer = await get(other, '/set?k=a&v=1', planted);
    expect(answer.status).toBe(200);
    expect(answer.setCookie).toMatch(/^tsession=/);
    expect(answer.setCookie).not.toBe(planted);
    expect(JSON.parse((await get(other, '/read', answer.setCookie)).body)).toEqual({ a: '1' });
    expect(JSON.parse((await get(other, '/read', planted)).body)).toEqual({});
    await app.close();
    await other.close();
  });

  it.skipIf(!available)('a read after a blind write in the same request sees it; other keys are kept', async () => {
    const app = await startApp(await open());
    const cookie = (await get(app, '/set?k=a&v=1')).setCookie as string;
    expect(JSON.parse((await get(app, '/setread?k=b&v=2', cookie)).body)).toEqual({ a: '1', b: '2' });
    expect(JSON.parse((await get(app, '/read', cookie)).body)).toEqual({ a: '1', b: '2' });
    await app.close();
  });

  it.skipIf(!available)('keep every one of 30 concurrent blind writes of different keys', async () => {
    const app = await startApp(await open());
    const cookie = (await get(app, '/set?k=start&v=0')).setCookie as string;
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => get(app, `/set?k=k${i}&v=${i}`, cookie)));
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
    const stored = JSON.parse((await get(app, '/read', cookie)).body) as Record<string, string>;
    expect(Object.keys(stored).sort()).toEqual(['start', ...Array.from({ length: 30 }, (_, i) => `k${i}`)].sort());
    await app.close();
  });

  it.skipIf(!available)(
    'with client binding, load first: another kind of client cannot write into a session',
    async () => {
      const app = await startApp(await open(), true);
      const firefox = 'Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0';
      const curl = 'curl/8.5.0';
      const cookie = (await get(app, '/set?k=a&v=victim', undefined, firefox)).setCookie as string;
      const loadsBefore = app.calls.load;
      const other = await get(app, '/set?k=a&v=attacker', cookie, curl);
      expect(app.calls.load).toBeGreaterThan(loadsBefore);
      expect(other.setCookie).not.toBe(cookie);
      expect(JSON.parse((await get(app, '/read', cookie, firefox)).body)).toEqual({ a: 'victim' });
      await app.close();
    },
  );
});
