/**
 * The app the concurrency torture drives: node:http + `withSessions` over any store.
 * Every route answers JSON; what a route changed is told back so the test can keep a
 * ledger of acknowledged effects.
 *
 * - `GET /read`: the counter and the slots, writes nothing.
 * - `POST /inc`: same-key read-modify-write of `torture.counter › n`, under
 *   `retryOnConflict`; answers `{ n }`, the value it stored.
 * - `POST /put?slot=s&v=k`: a blind write of `torture.own › s` (disjoint keys per loop),
 *   through the loaded package data; `POST /set?slot=s&v=k` the same through
 *   `session.set`, which commits without a load.
 * - `POST /login`: `regenerate()`, then sets the user; answers whether the store knew the
 *   request's id and what it carried over.
 * - `POST /logout`: `invalidate()`.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { retryOnConflict, type SessionRequestListener, withSessions } from '../../src/adapters/http/index.js';
import {
  CookieClientIdManager,
  isSessionError,
  SessionDataContainer,
  SessionManager,
  type SessionStore,
} from '../../src/index.js';
import { SECRET } from '../helpers.js';

export interface TortureApp {
  readonly url: string;
  /** Errors answered with a status other than 409 (should stay empty). */
  readonly unexpected: unknown[];
  readonly manager: SessionManager;
  close(): Promise<void>;
}

const json = (res: Parameters<SessionRequestListener>[1], body: unknown) => {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(body));
};

const inc = retryOnConflict(
  async (req, res) => {
    const counter = await req.session.get('torture.counter');
    const n = ((counter.get('n') as number | undefined) ?? 0) + 1;
    counter.set('n', n);
    json(res, { n });
  },
  { attempts: 5 },
);

const login = retryOnConflict(async (req, res) => {
  const counter = await req.session.get('torture.counter');
  const own = await req.session.get('torture.own');
  const user = await req.session.get('torture.user');
  // every stored record holds at least one entry: an empty view means the store did not know the request's id
  const known = counter.size + own.size + user.size > 0;
  await req.session.regenerate();
  const carried = { n: (counter.get('n') as number | undefined) ?? 0, own: own.toJSON() };
  user.set('name', 'someone');
  json(res, { known, carried });
});

const routes: Record<string, SessionRequestListener> = {
  '/read': async (req, res) => {
    const counter = await req.session.get('torture.counter');
    const own = await req.session.get('torture.own');
    json(res, { n: counter.get('n') ?? 0, own: own.toJSON() });
  },
  '/inc': inc,
  '/put': async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://app');
    const own = await req.session.get('torture.own');
    own.set(url.searchParams.get('slot') as string, Number(url.searchParams.get('v')));
    json(res, {});
  },
  '/set': async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://app');
    req.session.set('torture.own', url.searchParams.get('slot') as string, Number(url.searchParams.get('v')));
    json(res, {});
  },
  '/login': login,
  '/logout': async (req, res) => {
    req.session.invalidate();
    json(res, {});
  },
};

export async function startTortureApp(store: SessionStore): Promise<TortureApp> {
  const manager = new SessionManager({
    clientIds: new CookieClientIdManager({ secret: SECRET }),
    container: new SessionDataContainer({ store }),
  });
  const unexpected: unknown[] = [];
  const onError = (error: unknown) => {
    if (!(isSessionError(error) && error.status === 409)) unexpected.push(error);
  };
  const server: Server = createServer(
    withSessions(
      manager,
      (req, res) => {
        const route = routes[new URL(req.url ?? '/', 'http://app').pathname];
        if (!route) {
          res.statusCode = 404;
          return res.end();
        }
        return route(req, res);
      },
      { onError },
    ),
  );
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    unexpected,
    manager,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
