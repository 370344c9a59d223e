/**
 * Runs the Koa example: `node --conditions=source --import tsx examples/koa/server.ts`
 * (PORT, default 3000; SESSION_SECRET, at least 32 characters, else a random one per run).
 * Sessions live in memory; see the Fastify example for SQLite.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { CookieClientIdManager, SessionDataContainer, SessionManager, type SessionStore } from 'tsession';
import { MemoryStore } from 'tsession/memory';
import { createApp } from './app.js';

/** Options of {@link start}. */
export interface StartOptions {
  /** 0 picks a free port. @default $PORT, else 3000 */
  port?: number;
  /** Signs the cookies. @default $SESSION_SECRET, else random (sessions end with the process anyway) */
  secret?: string;
  /** Where sessions live. @default a new MemoryStore */
  store?: SessionStore;
}

/** Starts the example; `close()` stops the server and the store. */
export async function start(options: StartOptions = {}): Promise<{ url: string; close(): Promise<void> }> {
  const manager = new SessionManager({
    clientIds: new CookieClientIdManager({
      secret: options.secret ?? process.env.SESSION_SECRET ?? randomBytes(32).toString('base64url'),
    }),
    container: new SessionDataContainer({ store: options.store ?? new MemoryStore(), timeout: 3600 }),
  });
  const app = createApp(manager);
  app.proxy = process.env.TRUST_PROXY === '1'; // behind a proxy you trust: Secure follows X-Forwarded-Proto
  const server = app.listen(options.port ?? Number(process.env.PORT ?? 3000));
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://localhost:${port}`,
    async close() {
      server.closeAllConnections();
      await new Promise((done) => server.close(done));
      await manager.close();
    },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { url } = await start();
  console.log(`tsession Koa example on ${url}`);
}
