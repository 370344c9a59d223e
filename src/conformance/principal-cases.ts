import { strict as assert } from 'node:assert';
import { createServer } from 'node:http';
import { type SessionIncomingMessage, withSessions } from '../adapters/http/index.js';
import { CookieClientIdManager } from '../client-id/cookie.js';
import type { SessionRequest } from '../client-id/types.js';
import { type ConflictResolver, SessionDataContainer, type SessionEndReason } from '../container/container.js';
import { SessionStateError, StoreUnsupportedError } from '../errors.js';
import { userAgentClass } from '../session/fingerprint.js';
import { SessionManager } from '../session/manager.js';
import { SessionNameError } from '../session/names.js';
import { INTERNAL_PACKAGE, PRINCIPAL_KEY } from '../stores/record.js';
import type { ScannedSession, SessionStore } from '../stores/types.js';
import { create, type Harness, PKG, T0 } from './harness.js';
import { type Answer, CHROME, cookieRequest, listenLocal, SECRET, withApp as withOpenApp } from './http-harness.js';

const TIMEOUT = 3600;
const RESOLUTION = 600;

/** One app over the test's store, served by `tsession/http` on a loopback port, on a clock the test moves. */
interface App {
  readonly manager: SessionManager;
  readonly clock: { now: number };
  /** `onEnd` calls, in order. */
  readonly ended: [string, SessionEndReason][];
  /** Handler runs so far (a conflict retry would count twice; none is installed). */
  readonly runs: () => number;
  get(path: string, cookie?: string): Promise<Answer>;
  keyOf(cookie: string): string;
  /** Resolves once `n` requests of `/slow` or a barrier route have loaded. */
  loaded(n: number): Promise<void>;
  /** Lets every waiting `/slow` request go on to write. */
  release(): void;
  close(): Promise<void>;
}

interface ServeOptions {
  bound?: boolean;
  /** Requests of `/tag` and `/hit` wait after their load until this many have loaded. */
  barrier?: number;
  resolvers?: Readonly<Record<string, ConflictResolver | Readonly<Record<string, ConflictResolver>>>>;
}

/**
 * Routes: `/login?user=` (regenerate, then setPrincipal), `/write?v=`, `/read`, `/logout`,
 * `/clear`, `/forget` (setPrincipal(null)), `/reset` (regenerate without data), `/slow`
 * (loads, waits for `release()`, then writes), `/hit` (increments a counter), `/tag?t=`
 * (reads the tags and adds one), `/end-others` (ends the user's other sessions).
 */
async function serve(store: SessionStore, options: ServeOptions = {}): Promise<App> {
  const clock = { now: T0 };
  const now = () => clock.now;
  const ended: [string, SessionEndReason][] = [];
  const clientIds = new CookieClientIdManager({ secret: SECRET, clock: now });
  const container = new SessionDataContainer({
    store,
    clock: now,
    timeout: TIMEOUT,
    resolution: RESOLUTION,
    sweepIntervalSeconds: 0,
    onEnd: (key, reason) => ended.push([key, reason]),
    ...(options.resolvers && { resolvers: options.resolvers }),
  });
  const manager = new SessionManager({ clientIds, container, ...(options.bound && { fingerprint: userAgentClass }) });
  let arrived = 0;
  const waiters: { n: number; resolve: () => void }[] = [];
  const arrive = () => {
    arrived++;
    for (const w of waiters) if (arrived >= w.n) w.resolve();
  };
  let open = () => {};
  const gate = new Promise<void>((resolve) => (open = resolve));
  let barrierOpen = () => {};
  const barrier = new Promise<void>((resolve) => (barrierOpen = resolve));
  const atBarrier = async () => {
    arrive();
    if (options.barrier === undefined) return;
    if (arrived >= options.barrier) barrierOpen();
    await barrier;
  };
  let runs = 0;
  const handler = withSessions(
    manager,
    async (req: SessionIncomingMessage, res) => {
      runs++;
      const url = new URL(req.url ?? '/', 'http://localhost');
      const session = req.session;
      const param = (name: string) => url.searchParams.get(name) ?? '';
      switch (url.pathname) {
        case '/login':
          await session.regenerate();
          session.setPrincipal(param('user'));
          break;
        case '/write':
          (await session.get(PKG)).set('v', param('v'));
          break;
        case '/logout':
          session.invalidate();
          break;
        case '/clear':
          await session.clear();
          break;
        case '/forget':
          session.setPrincipal(null);
          break;
        case '/reset':
          await session.regenerate({ keepData: false });
          break;
        case '/slow': {
          const data = await session.get(PKG);
          arrive();
          await gate;
          data.set('v', 'late');
          break;
        }
        case '/hit': {
          const data = await session.get('app.hits');
          await atBarrier();
          data.increment('n');
          break;
        }
        case '/tag': {
          const data = await session.get('app.tags');
          const tags = (data.get('tags') as string[] | undefined) ?? [];
          await atBarrier();
          data.set('tags', [...tags, param('t')]);
          break;
        }
        case '/end-others': {
          const own = session.isNew ? undefined : manager.clientIds.read(requestOf(req))?.key;
          const count = await manager.endSessionsOf(param('user'), own === undefined ? {} : { except: own });
          res.end(String(count));
          return;
        }
      }
      const data = await session.peek(PKG);
      res.end(JSON.stringify(data?.toJSON() ?? null));
    },
    { onError: () => {} },
  );
  const local = await listenLocal(createServer(handler));
  return {
    manager,
    clock,
    ended,
    runs: () => runs,
    get: (path, cookie) => local.get(path, cookie),
    keyOf(cookie) {
      const key = clientIds.read(cookieRequest(cookie))?.key;
      assert.ok(key, 'the cookie carries a valid id');
      return key;
    },
    loaded: (n) =>
      new Promise<void>((resolve) => {
        if (arrived >= n) resolve();
        else waiters.push({ n, resolve });
      }),
    release: () => open(),
    close: () => {
      open();
      barrierOpen();
      return local.close();
    },
  };
}

function requestOf(req: SessionIncomingMessage): SessionRequest {
  return cookieRequest(String(req.headers.cookie ?? ''));
}

/** Sessions by user (issue 14 §1), over real HTTP: listing, ending, and the index under every way a session moves or ends. */
export function principalCases({ t, store, caps }: Harness): void {
  const withApp = (options: ServeOptions, run: (app: App) => Promise<void>) =>
    withOpenApp(() => serve(store(), options), run);
  /** Logs a new client in as `user`; its cookie. */
  const login = async (app: App, user: string, cookie?: string) => {
    const answer = await app.get(`/login?user=${encodeURIComponent(user)}`, cookie);
    assert.equal(answer.status, 200, answer.body);
    assert.ok(answer.cookie, 'a login sends the new id');
    return answer.cookie;
  };
  const listed = async (app: App, user: string) => (await app.manager.sessionsOf(user)).map((s) => s.clientKey).sort();

  t.describe('sessions by user', () => {
    t.it(
      'a store without the capability refuses with StoreUnsupportedError; bad user ids with SessionNameError',
      async () => {
        await withApp({}, async (app) => {
          await assert.rejects(app.manager.sessionsOf(''), SessionNameError);
          await assert.rejects(app.manager.sessionsOf('a\0b'), SessionNameError);
          if (!caps.principals) {
            await assert.rejects(app.manager.sessionsOf('ann'), StoreUnsupportedError);
            await assert.rejects(app.manager.endSessionsOf('ann'), StoreUnsupportedError);
          } else {
            assert.deepEqual(await app.manager.sessionsOf('nobody'), []);
          }
        });
      },
    );
  });

  if (caps.principals) principalIndexCases(t, withApp, login, listed, store);
}

function principalIndexCases(
  t: Harness['t'],
  withApp: (options: ServeOptions, run: (app: App) => Promise<void>) => Promise<void>,
  login: (app: App, user: string, cookie?: string) => Promise<string>,
  listed: (app: App, user: string) => Promise<string[]>,
  store: () => SessionStore,
): void {
  t.describe('sessions by user, indexed', () => {
    t.it('lists each user’s sessions with their times, and no one else’s', async () => {
      await withApp({}, async (app) => {
        const ann = [await login(app, 'ann'), await login(app, 'ann'), await login(app, 'ann')];
        const bob = await login(app, 'bob');
        await app.get('/write?v=anonymous');
        assert.deepEqual(await listed(app, 'ann'), ann.map((c) => app.keyOf(c)).sort());
        assert.deepEqual(await listed(app, 'bob'), [app.keyOf(bob)]);
        assert.deepEqual(await listed(app, 'carol'), []);
        const [first] = await app.manager.sessionsOf('bob');
        assert.deepEqual(first, {
          clientKey: app.keyOf(bob),
          createdAt: T0,
          lastAccess: T0,
          expiresAt: T0 + TIMEOUT + RESOLUTION,
        });
      });
    });

    t.it(
      'regenerate keeps the principal under the new id; invalidate and setPrincipal(null) drop it; clear keeps it',
      async () => {
        await withApp({}, async (app) => {
          const first = await login(app, 'ann');
          const again = await login(app, 'ann', first);
          assert.notEqual(again, first);
          assert.deepEqual(await listed(app, 'ann'), [app.keyOf(again)]);
          await app.get('/write?v=x', again);
          assert.equal((await app.get('/clear', again)).status, 200);
          assert.deepEqual(await listed(app, 'ann'), [app.keyOf(again)], 'clear keeps it');
          assert.equal((await app.get('/forget', again)).status, 200);
          assert.deepEqual(await listed(app, 'ann'), [], 'setPrincipal(null)');
          const other = await login(app, 'ann');
          await app.get('/logout', other);
          assert.deepEqual(await listed(app, 'ann'), [], 'invalidate');
          const reset = await login(app, 'ann');
          const fresh = (await app.get('/reset', reset)).cookie;
          assert.ok(fresh);
          await app.get('/write?v=y', fresh);
          assert.deepEqual(await listed(app, 'ann'), [], 'regenerate without data starts empty');
        });
      },
    );

    t.it('a user who logs in as someone else moves to that user’s list', async () => {
      await withApp({}, async (app) => {
        const cookie = await login(app, 'ann');
        const bob = await login(app, 'bob', cookie);
        assert.deepEqual(await listed(app, 'ann'), []);
        assert.deepEqual(await listed(app, 'bob'), [app.keyOf(bob)]);
      });
    });

    t.it('never lists an expired session, before or after a sweep', async () => {
      await withApp({}, async (app) => {
        const old = await login(app, 'ann');
        app.clock.now = T0 + TIMEOUT;
        const young = await login(app, 'ann');
        app.clock.now = T0 + TIMEOUT + RESOLUTION + 1;
        assert.deepEqual(await listed(app, 'ann'), [app.keyOf(young)], 'filtered on read');
        app.clock.now = T0 + 2 * (TIMEOUT + RESOLUTION) + 1;
        assert.deepEqual(await listed(app, 'ann'), []);
        await app.manager.sweep();
        assert.deepEqual(await listed(app, 'ann'), []);
        assert.equal(await store().load(app.keyOf(old), app.clock.now), undefined);
      });
    });

    t.it(
      'endSessionsOf ends every other session at once, with onEnd(invalidated); the survivor stays listed',
      async () => {
        await withApp({}, async (app) => {
          const mine = await login(app, 'ann');
          const others = [await login(app, 'ann'), await login(app, 'ann')];
          const bob = await login(app, 'bob');
          for (const c of [mine, ...others]) await app.get('/write?v=kept', c);
          assert.equal((await app.get('/end-others?user=ann', mine)).body, '2');
          assert.deepEqual(await listed(app, 'ann'), [app.keyOf(mine)]);
          assert.deepEqual(await listed(app, 'bob'), [app.keyOf(bob)]);
          for (const c of others) {
            assert.equal((await app.get('/read', c)).body, 'null', 'an ended session reads empty');
            assert.equal(await store().load(app.keyOf(c), app.clock.now), undefined);
          }
          assert.equal((await app.get('/read', mine)).body, '{"v":"kept"}');
          const invalidated = app.ended.filter(([, reason]) => reason === 'invalidated').map(([key]) => key);
          assert.deepEqual(invalidated.sort(), others.map((c) => app.keyOf(c)).sort());
          assert.equal(await app.manager.endSessionsOf('ann'), 1);
          assert.deepEqual(await listed(app, 'ann'), []);
        });
      },
    );

    t.it('a slower request that loaded a session before it was ended cannot bring it back (409)', async () => {
      await withApp({}, async (app) => {
        const cookie = await login(app, 'ann');
        const slow = app.get('/slow', cookie);
        await app.loaded(1);
        assert.equal(await app.manager.endSessionsOf('ann'), 1);
        app.release();
        assert.equal((await slow).status, 409);
        assert.equal(await store().load(app.keyOf(cookie), app.clock.now), undefined);
        assert.deepEqual(await listed(app, 'ann'), []);
      });
    });

    t.it('a bound session is listed with its fingerprint class', async () => {
      await withApp({ bound: true }, async (app) => {
        const cookie = await login(app, 'ann');
        const [session] = await app.manager.sessionsOf('ann');
        assert.equal(session?.clientKey, app.keyOf(cookie));
        assert.equal(session?.fingerprint, userAgentClass(uaRequest(CHROME)));
      });
    });

    t.it(
      'a scan (what export reads) carries the principal, and a create with it (what import writes) restores the index',
      async () => {
        await withApp({}, async (app) => {
          const cookie = await login(app, 'ann');
          const scanned: ScannedSession[] = [];
          for await (const record of store().scan(app.clock.now)) scanned.push(record);
          const [record] = scanned;
          assert.ok(record);
          assert.ok(record.entries.some((e) => e.pkg === INTERNAL_PACKAGE && e.key === PRINCIPAL_KEY));
          await app.manager.endSessionsOf('ann');
          assert.deepEqual(await listed(app, 'ann'), []);
          const { key, createdAt, lastAccess, expiresAt, entries } = record;
          const writes = entries.map(({ pkg, key, value }) => ({ pkg, key, value }));
          await store().commit(
            key,
            { create: true, createdAt, touch: { lastAccess, expiresAt }, writes },
            app.clock.now,
          );
          assert.deepEqual(await listed(app, 'ann'), [app.keyOf(cookie)]);
        });
      },
    );

    t.it('the store lists by the principal entry itself, through any commit that writes or removes it', async () => {
      const s = store();
      const principal = (user: string) => ({ pkg: INTERNAL_PACKAGE, key: PRINCIPAL_KEY, value: JSON.stringify(user) });
      await create(s, 'k1', [principal('ann')]);
      await create(s, 'k2', [principal('ann'), { pkg: PKG, key: 'a', value: '1' }]);
      const find = async (user: string) =>
        ((await s.findByPrincipal?.(JSON.stringify(user), T0)) ?? []).map((r) => r.key).sort();
      assert.deepEqual(await find('ann'), ['k1', 'k2']);
      await s.commit('k2', { create: false, writes: [{ ...principal('bob') }] }, T0);
      assert.deepEqual(await find('ann'), ['k1']);
      assert.deepEqual(await find('bob'), ['k2']);
      await s.commit('k1', { create: false, writes: [{ ...principal('ann'), value: undefined }] }, T0);
      assert.deepEqual(await find('ann'), []);
      await s.destroy('k2');
      assert.deepEqual(await find('bob'), []);
    });
  });
}

function uaRequest(agent: string): SessionRequest {
  return { method: 'GET', url: '/', secure: false, header: (n) => (n === 'user-agent' ? agent : undefined) };
}

/** Hot keys (issue 14 §2), over real HTTP: increments the store applies, and conflict resolvers. */
export function hotKeyCases({ t, store, caps }: Harness): void {
  const withApp = (options: ServeOptions, run: (app: App) => Promise<void>) =>
    withOpenApp(() => serve(store(), options), run);
  const readJson = async (app: App, cookie: string, pkg: string) => {
    const record = await store().load(app.keyOf(cookie), app.clock.now);
    assert.ok(record);
    return Object.fromEntries(record.entries.filter((e) => e.pkg === pkg).map((e) => [e.key, JSON.parse(e.value)]));
  };

  t.describe('hot keys', () => {
    t.it(
      '200 concurrent increments of one counter, all loaded before any commit: exactly 200, no 409, no re-run',
      async () => {
        await withApp({ barrier: 200 }, async (app) => {
          const { cookie } = await app.get('/write?v=x');
          assert.ok(cookie);
          const answers = await Promise.all(Array.from({ length: 200 }, () => app.get('/hit', cookie)));
          assert.deepEqual(
            answers.map((a) => a.status).filter((s) => s !== 200),
            [],
          );
          assert.equal(app.runs(), 201);
          assert.deepEqual(await readJson(app, cookie, 'app.hits'), { n: 200 });
        });
      },
    );

    t.it('an increment on a value that is not an integer is a typed error, and writes nothing', async () => {
      const s = store();
      await create(s, 'k', [{ pkg: PKG, key: 'n', value: '"text"' }]);
      await assert.rejects(
        s.commit('k', { create: false, writes: [{ pkg: PKG, key: 'n', value: '1', add: 1 }] }, T0),
        SessionStateError,
      );
      await create(s, 'k2', [{ pkg: PKG, key: 'n', value: String(Number.MAX_SAFE_INTEGER) }]);
      await assert.rejects(
        s.commit('k2', { create: false, writes: [{ pkg: PKG, key: 'n', value: '1', add: 1 }] }, T0),
        SessionStateError,
      );
      const record = await s.load('k', T0);
      assert.deepEqual(
        record?.entries.map((e) => e.value),
        ['"text"'],
      );
    });

    t.it('the store adds to what it holds, from 0 when absent, also on a create', async () => {
      const s = store();
      const add = (key: string, n: number) => ({ pkg: PKG, key, value: String(n), add: n });
      await s.commit('k', { create: true, touch: { lastAccess: T0, expiresAt: T0 + 60 }, writes: [add('n', 5)] }, T0);
      await s.commit('k', { create: false, writes: [add('n', -2), add('m', 7)] }, T0);
      await s.commit('k', { create: false, writes: [add('n', 10)] }, T0);
      const record = await s.load('k', T0);
      const values = Object.fromEntries((record?.entries ?? []).map((e) => [e.key, e.value]));
      assert.deepEqual(values, { n: '13', m: '7' });
    });

    if (!caps.perKeyVersions) return;

    t.it('20 concurrent read-then-write requests of one key merge through a resolver: no 409, no re-run', async () => {
      const union: ConflictResolver = (stored, read, mine) => {
        const gone = new Set((read as string[] | undefined) ?? []);
        const added = ((mine as string[] | undefined) ?? []).filter((tag) => !gone.has(tag));
        return [...((stored as string[] | undefined) ?? []), ...added];
      };
      await withApp({ barrier: 20, resolvers: { 'app.tags': { tags: union } } }, async (app) => {
        const { cookie } = await app.get('/write?v=x');
        assert.ok(cookie);
        const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => app.get(`/tag?t=t${i}`, cookie)));
        assert.deepEqual(
          answers.map((a) => a.status).filter((s) => s !== 200),
          [],
        );
        assert.equal(app.runs(), 21);
        const { tags } = await readJson(app, cookie, 'app.tags');
        assert.deepEqual([...(tags as string[])].sort(), Array.from({ length: 20 }, (_, i) => `t${i}`).sort());
      });
    });

    t.it('a resolver that throws gives the ConflictError as before', async () => {
      const refuse: ConflictResolver = () => {
        throw new Error('no merge');
      };
      await withApp({ barrier: 5, resolvers: { 'app.tags': refuse } }, async (app) => {
        const { cookie } = await app.get('/write?v=x');
        assert.ok(cookie);
        const answers = await Promise.all(Array.from({ length: 5 }, (_, i) => app.get(`/tag?t=t${i}`, cookie)));
        const statuses = answers.map((a) => a.status).sort();
        assert.deepEqual(statuses, [200, 409, 409, 409, 409]);
        assert.equal(((await readJson(app, cookie, 'app.tags')).tags as string[]).length, 1);
      });
    });
  });
}
