import { strict as assert } from 'node:assert';
import { createServer } from 'node:http';
import { type SessionIncomingMessage, withSessions } from '../adapters/http/index.js';
import { CookieClientIdManager } from '../client-id/cookie.js';
import { SessionDataContainer, type SessionDataContainerOptions } from '../container/container.js';
import { userAgentClass } from '../session/fingerprint.js';
import { SessionManager } from '../session/manager.js';
import { measureEntries } from '../stores/record.js';
import type { SessionStore } from '../stores/types.js';
import { type Harness, T0 } from './harness.js';
import {
  CHROME,
  cookieRequest,
  type LocalServer,
  listenLocal,
  SECRET,
  withApp as withOpenApp,
} from './http-harness.js';

const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0';

/** One app over the test's store, served by the `tsession/http` adapter on a loopback port. */
interface App extends LocalServer {
  /** The store key of a cookie's id. */
  keyOf(cookie: string): string;
}

/** Routes: `/add?pkg=` adds a package of ~3 kB; `/read`; `/write`; `/logout`; `/reset`; `/login`. */
async function serve(
  store: SessionStore,
  options: { bound?: boolean; container?: Partial<SessionDataContainerOptions>; barrier?: number } = {},
): Promise<App> {
  // `/add` waits, after its load, until `barrier` requests have loaded: so every one of them
  // loads the record before any commits, the race the caps must hold against, on every store.
  let arrived = 0;
  let release = () => {};
  const allLoaded = new Promise<void>((resolve) => (release = resolve));
  const clientIds = new CookieClientIdManager({ secret: SECRET, clock: () => T0 });
  const container = new SessionDataContainer({ store, clock: () => T0, sweepIntervalSeconds: 0, ...options.container });
  const manager = new SessionManager({ clientIds, container, ...(options.bound && { fingerprint: userAgentClass }) });
  const handler = withSessions(
    manager,
    async (req: SessionIncomingMessage, res) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const session = req.session;
      switch (url.pathname) {
        case '/add': {
          const data = await session.get(url.searchParams.get('pkg') ?? 'app.x');
          if (++arrived === options.barrier) release();
          if (options.barrier !== undefined) await allLoaded;
          data.set('v', 'p'.repeat(3000));
          break;
        }
        case '/write':
          (await session.get('app.data')).set('user', url.searchParams.get('user') ?? 'ann');
          break;
        case '/logout':
          session.invalidate();
          break;
        case '/reset':
          await session.regenerate({ keepData: false });
          break;
        case '/login':
          await session.regenerate();
          break;
      }
      const data = await session.peek('app.data');
      res.end(JSON.stringify(data?.toJSON() ?? null));
    },
    { onError: () => {} },
  );
  const local = await listenLocal(createServer(handler));
  return {
    ...local,
    keyOf(cookie) {
      const key = clientIds.read(cookieRequest(cookie))?.key;
      assert.ok(key, 'the cookie carries a valid id');
      return key;
    },
  };
}

/** Over real HTTP: caps under parallel requests, and sessions bound to a client fingerprint. */
export function httpCases({ t, store }: Harness): void {
  const withApp = (options: Parameters<typeof serve>[1], run: (app: App) => Promise<void>) =>
    withOpenApp(() => serve(store(), options), run);

  t.describe('over HTTP', () => {
    t.it(
      '20 parallel requests each adding a package cannot pass 10,000 bytes and 3 packages; regenerate still works',
      async () => {
        await withApp({ container: { maxSessionBytes: 10_000, maxPackages: 3 }, barrier: 20 }, async (app) => {
          const { cookie } = await app.get('/write');
          assert.ok(cookie);
          const answers = await Promise.all(
            Array.from({ length: 20 }, (_, i) => app.get(`/add?pkg=app.p${i}`, cookie)),
          );
          const statuses = answers.map((a) => a.status);
          assert.ok(
            statuses.every((s) => s === 200 || s === 500),
            String(statuses),
          );
          const record = await store().load(app.keyOf(cookie), T0);
          assert.ok(record);
          const { measure } = measureEntries(record.entries);
          assert.ok(measure.bytes <= 10_000 && measure.packages <= 3, JSON.stringify(measure));
          assert.equal(measure.packages, 1 + statuses.filter((s) => s === 200).length);
          assert.equal(statuses.filter((s) => s === 500).length, 20 - (measure.packages - 1));
          const login = await app.get('/login', cookie);
          assert.equal(login.status, 200);
          assert.ok(login.cookie && login.cookie !== cookie);
          assert.equal((await app.get('/read', login.cookie)).body, '{"user":"ann"}');
          assert.equal(await store().load(app.keyOf(cookie), T0), undefined);
        });
      },
    );

    t.it('a bound session: another client class reads nothing, and cannot write, invalidate or reset it', async () => {
      await withApp({ bound: true }, async (app) => {
        const { cookie } = await app.get('/write?user=ann', undefined, CHROME);
        assert.ok(cookie);
        assert.equal((await app.get('/read', cookie, FIREFOX)).body, 'null');
        for (const path of ['/write?user=mallory', '/logout', '/reset', '/login']) {
          const answer = await app.get(path, cookie, FIREFOX);
          assert.ok(answer.status < 500, `${path}: ${answer.status}`);
          assert.equal((await app.get('/read', cookie, CHROME)).body, '{"user":"ann"}', `after ${path}`);
        }
        assert.ok(await store().load(app.keyOf(cookie), T0));
        // The owner can still end it.
        await app.get('/logout', cookie, CHROME);
        assert.equal(await store().load(app.keyOf(cookie), T0), undefined);
      });
    });

    t.it('a record made before binding was turned on is bound by its first client', async () => {
      let cookie: string | undefined;
      await withApp({}, async (app) => {
        cookie = (await app.get('/write?user=ann', undefined, CHROME)).cookie;
      });
      assert.ok(cookie);
      const owned = cookie;
      await withApp({ bound: true }, async (app) => {
        assert.equal((await app.get('/read', owned, CHROME)).body, '{"user":"ann"}');
        assert.equal((await app.get('/read', owned, FIREFOX)).body, 'null');
        await app.get('/logout', owned, FIREFOX);
        assert.equal((await app.get('/read', owned, CHROME)).body, '{"user":"ann"}');
        assert.ok(await store().load(app.keyOf(owned), T0));
      });
    });
  });
}
