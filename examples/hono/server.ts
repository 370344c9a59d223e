/**
 * Runs the Hono example on Node: `node --conditions=tsession-source --import tsx examples/hono/server.ts`
 * (PORT, default 3000; SESSION_SECRET, at least 32 characters; SESSION_DB, default
 * ./data/hono-example.db; TRUST_PROXY=1 behind a proxy you trust). Sessions live in
 * SQLite, so they survive a restart when the secret stays the same.
 */
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { serve } from '@hono/node-server';
import { SqliteStore } from 'tsession/sqlite';
import { exampleManager, portOf, type StartOptions } from '../shared/manager.js';
import { createApp } from './app.js';

export type { StartOptions } from '../shared/manager.js';

/** Starts the example; `close()` stops the server and the store. */
export async function start(options: StartOptions = {}): Promise<{ url: string; close(): Promise<void> }> {
  const manager = exampleManager(
    options,
    () => new SqliteStore({ path: process.env.SESSION_DB ?? 'data/hono-example.db' }),
  );
  const app = createApp(manager, { trustProxy: process.env.TRUST_PROXY === '1' });
  let server: ReturnType<typeof serve> | undefined;
  const { port } = await new Promise<AddressInfo>((listening) => {
    server = serve({ fetch: app.fetch, port: portOf(options) }, listening);
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
