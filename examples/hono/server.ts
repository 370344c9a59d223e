/**
 * Runs the Hono example on Node: `node --conditions=source --import tsx examples/hono/server.ts`
 * (PORT, default 3000; SESSION_SECRET, at least 32 characters; SESSION_DB, default
 * ./data/hono-example.db; TRUST_PROXY=1 behind a proxy you trust). Sessions live in
 * SQLite, so they survive a restart when the secret stays the same.
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { serve } from '@hono/node-server';
import { CookieClientIdManager, SessionDataContainer, SessionManager, type SessionStore } from 'tsession';
import { SqliteStore } from 'tsession/sqlite';
import { createApp } from './app.js';

/** Options of {@link start}. */
export interface StartOptions {
  /** 0 picks a free port. @default $PORT, else 3000 */
  port?: number;
  /** Signs the cookies. @default $SESSION_SECRET, else random (cookies then die with the process) */
  secret?: string;
  /** Where sessions live. @default a SqliteStore at $SESSION_DB, else ./data/hono-example.db */
  store?: SessionStore;
}

/** Starts the example; `close()` stops the server and the store. */
export async function start(options: StartOptions = {}): Promise<{ url: string; close(): Promise<void> }> {
  const manager = new SessionManager({
    clientIds: new CookieClientIdManager({
      secret: options.secret ?? process.env.SESSION_SECRET ?? randomBytes(32).toString('base64url'),
    }),
    container: new SessionDataContainer({
      store: options.store ?? new SqliteStore({ path: process.env.SESSION_DB ?? 'data/hono-example.db' }),
      timeout: 24 * 3600,
      sweepIntervalSeconds: 600,
    }),
  });
  const app = createApp(manager, { trustProxy: process.env.TRUST_PROXY === '1' });
  let server: ReturnType<typeof serve> | undefined;
  const { port } = await new Promise<AddressInfo>((listening) => {
    server = serve({ fetch: app.fetch, port: options.port ?? Number(process.env.PORT ?? 3000) }, listening);
  });
  return {
    url: `http://localhost:${port}`,
    async close() {
      if (server && 'closeAllConnections' in server) server.closeAllConnections();
      await new Promise((done) => server?.close(done));
      await manager.close();
    },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  if (!process.env.SESSION_SECRET) console.warn('SESSION_SECRET is not set: sessions will not survive a restart');
  const { url } = await start();
  console.log(`tsession Hono example on ${url}`);
}
