/**
 * Runs the Fastify example: `node --conditions=tsession-source --import tsx examples/fastify/server.ts`
 * (PORT, default 3000; SESSION_SECRET, at least 32 characters; SESSION_DB, default
 * ./data/fastify-example.db). Sessions live in SQLite, so they survive a restart when
 * the secret stays the same.
 */
import { pathToFileURL } from 'node:url';
import { SqliteStore } from 'tsession/sqlite';
import { exampleManager, portOf, type StartOptions } from '../shared/manager.js';
import { createApp } from './app.js';

export type { StartOptions } from '../shared/manager.js';

/** Starts the example; `close()` stops the server and the store. */
export async function start(options: StartOptions = {}): Promise<{ url: string; close(): Promise<void> }> {
  const manager = exampleManager(
    options,
    () => new SqliteStore({ path: process.env.SESSION_DB ?? 'data/fastify-example.db' }),
  );
  const app = await createApp(manager);
  app.addHook('onClose', () => manager.close());
  const url = await app.listen({ port: portOf(options) });
  return { url, close: () => app.close() };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  if (!process.env.SESSION_SECRET) console.warn('SESSION_SECRET is not set: sessions will not survive a restart');
  const { url } = await start();
  console.log(`tsession Fastify example on ${url}`);
}
