/**
 * A tiny node:http app that the distributed tests start as a child process, twice, over
 * one shared store. Configured by environment variables:
 * TSESSION_DIST_STORE (`redis` | `postgres` | `connect-redis`, the last being ConnectStore over connect-redis), TSESSION_DIST_URL, TSESSION_DIST_NAMESPACE
 * (the Redis key prefix or the PostgreSQL schema) and TSESSION_DIST_SECRET. Prints
 * `{"port":N}` on its first line of stdout once it listens.
 *
 * Routes (all under the package `dist.data`):
 * - `GET /write?value=V` sets `last` to V without reading it.
 * - `GET /read` answers `{ last, pid }`.
 * - `GET /set?key=K` sets key K to this process's pid without reading it.
 * - `GET /append?id=I` reads the list `log`, appends I and writes it back.
 * - `GET /dump` answers the whole package as JSON.
 */
import { createServer } from 'node:http';
import { RedisStore as ConnectRedisStore } from 'connect-redis';
import { createClient } from 'redis';
import { withSessions } from '../../src/adapters/http/index.js';
import { CookieClientIdManager, SessionDataContainer, SessionManager } from '../../src/index.js';
import { ConnectStore } from '../../src/stores/connect/index.js';
import { PostgresStore } from '../../src/stores/postgres/index.js';
import { RedisStore } from '../../src/stores/redis/index.js';
import type { SessionStore } from '../../src/stores/types.js';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`distributed app: ${name} is not set`);
  return value;
};

const kind = env('TSESSION_DIST_STORE');
const url = env('TSESSION_DIST_URL');
const namespace = env('TSESSION_DIST_NAMESPACE');
async function openStore(): Promise<SessionStore> {
  switch (kind) {
    case 'redis':
      return new RedisStore({ url, prefix: namespace });
    case 'postgres':
      return new PostgresStore({ connectionString: url, schema: namespace });
    case 'connect-redis': {
      const client = await createClient({ url }).connect();
      return new ConnectStore({ store: new ConnectRedisStore({ client, prefix: namespace }) });
    }
    default:
      throw new Error(`distributed app: unknown TSESSION_DIST_STORE ${kind}`);
  }
}
const store = await openStore();
const container = new SessionDataContainer({ store });
const clientIds = new CookieClientIdManager({ secret: env('TSESSION_DIST_SECRET') });
const manager = new SessionManager({ clientIds, container });
const PKG = 'dist.data';

const server = createServer(
  withSessions(manager, async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://app');
    const data = await req.session.get(PKG);
    const json = (body: unknown) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(body));
    };
    switch (url.pathname) {
      case '/write':
        data.set('last', url.searchParams.get('value'));
        return json({ pid: process.pid });
      case '/read':
        return json({ last: data.get('last') ?? null, pid: process.pid });
      case '/set':
        data.set(url.searchParams.get('key') ?? 'none', process.pid);
        return json({ pid: process.pid });
      case '/append': {
        const log = (data.get('log') as string[] | undefined) ?? [];
        data.set('log', [...log, url.searchParams.get('id') ?? '?']);
        return json({ pid: process.pid });
      }
      case '/dump':
        return json({ data: Object.fromEntries(data.entries()), pid: process.pid });
      default:
        res.statusCode = 404;
        res.end('not found');
    }
  }),
);

server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 })}\n`);
});

const stop = () => server.close(() => void store.close().finally(() => process.exit(0)));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
