/**
 * The tsession demo: `npm start`. A small site on node:http whose sessions live in
 * SQLite under `./data/` (or `$TSESSION_DEMO_DATA`), so they survive a restart.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CookieClientIdManager, SessionDataContainer, SessionManager, type SessionStore } from 'tsession';
import { withSessions } from 'tsession/http';
import { SqliteStore } from 'tsession/sqlite';
import { ADMIN_PATH, createDemoAdmin } from './admin.js';
import { route } from './routes.js';

/** Options of {@link createDemoServer}. */
export interface DemoOptions {
  /** Where the database and the generated secret live; created if missing. */
  dataDir: string;
  /** 0 picks a free port. @default 3000 */
  port?: number;
  /** The cookie-signing secret. @default $SESSION_SECRET, else one generated once into `<dataDir>/secret` */
  secret?: string;
}

/** A running demo. */
export interface DemoServer {
  server: Server;
  /** e.g. `http://localhost:3000/` */
  url: string;
  /** Stops accepting requests, lets running ones finish, then closes the store. */
  close(): Promise<void>;
}

/** The one place that picks the store: switch it here. */
export function createStore(dataDir: string): SessionStore {
  return new SqliteStore({ path: join(dataDir, 'sessions.db') }); // or `new MemoryStore()` from 'tsession/memory'
}

/** The secret and where it came from: the environment, the data dir, or generated now (and saved there). */
export function loadSecret(dataDir: string, env = process.env): { secret: string; origin: 'env' | 'file' | 'new' } {
  if (env.SESSION_SECRET) return { secret: env.SESSION_SECRET, origin: 'env' };
  const file = join(dataDir, 'secret');
  let origin: 'file' | 'new' = 'file';
  try {
    writeFileSync(file, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
    origin = 'new';
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const secret = readFileSync(file, 'utf8').trim();
  if (secret.length < 32) {
    throw new Error(`${file} holds fewer than 32 characters: delete it to have one generated, or set SESSION_SECRET`);
  }
  return { secret, origin };
}

/** Starts the demo on `port` with its data in `dataDir`. */
export async function createDemoServer(options: DemoOptions): Promise<DemoServer> {
  mkdirSync(options.dataDir, { recursive: true });
  const secret = options.secret ?? loadSecret(options.dataDir).secret;
  const day = 24 * 3600;
  const manager = new SessionManager({
    clientIds: new CookieClientIdManager({ secret, lifetime: day }),
    container: new SessionDataContainer({
      store: createStore(options.dataDir),
      timeout: day,
      sweepIntervalSeconds: 600,
    }),
  });
  const admin = createDemoAdmin(manager);
  const app = withSessions(manager, route);
  const server = createServer((req, res) => (req.url?.startsWith(ADMIN_PATH) ? admin(req, res) : app(req, res)));
  await new Promise<void>((done, fail) => {
    server.once('error', fail).listen(options.port ?? 3000, () => done());
  });
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  const close = async () => {
    await new Promise<void>((done, fail) => {
      server.close((error) => (error ? fail(error) : done()));
      server.closeIdleConnections();
      setTimeout(() => server.closeAllConnections(), 5000).unref();
    });
    await manager.close();
  };
  return { server, url: `http://localhost:${port}/`, close: () => (closing ??= close()) };
}

async function main(): Promise<void> {
  const dataDir = resolve(process.env.TSESSION_DEMO_DATA ?? './data');
  mkdirSync(dataDir, { recursive: true });
  const { secret, origin } = loadSecret(dataDir);
  const port = Number(process.env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be 0-65535, got ${port}`);
  const demo = await createDemoServer({ dataDir, port, secret });
  console.log(`tsession demo: sessions in ${dataDir}`);
  if (origin === 'env') console.log('Cookies are signed with $SESSION_SECRET.');
  else {
    const what = origin === 'new' ? 'Generated a cookie-signing secret and saved it' : 'Using the secret saved';
    console.log(`${what} in ${join(dataDir, 'secret')} (mode 0600); set SESSION_SECRET to use your own.`);
  }
  console.log(`Listening on ${demo.url}  (Ctrl-C to stop)`);
  console.log(`Admin page: ${new URL(ADMIN_PATH, demo.url)}  (log in as "admin" first)`);
  const shutdown = (signal: NodeJS.Signals) => {
    console.log(`${signal}: closing the server and the store...`);
    demo.close().then(
      () => console.log('Bye.'),
      (error: unknown) => {
        console.error(error);
        process.exitCode = 1;
      },
    );
  };
  process.once('SIGINT', shutdown).once('SIGTERM', shutdown);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
