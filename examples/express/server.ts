/**
 * Runs the Express example: `node --conditions=tsession-source --import tsx examples/express/server.ts`
 * (PORT, default 3000; SESSION_SECRET, at least 32 characters, else a random one per run).
 * Sessions live in memory; see the Fastify example for SQLite.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { MemoryStore } from 'tsession/memory';
import { exampleManager, portOf, type StartOptions } from '../shared/manager.js';
import { createApp } from './app.js';

export type { StartOptions } from '../shared/manager.js';

/** Starts the example; `close()` stops the server and the store. */
export async function start(options: StartOptions = {}): Promise<{ url: string; close(): Promise<void> }> {
  const manager = exampleManager(options, () => new MemoryStore());
  const server = createApp(manager).listen(portOf(options));
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
  console.log(`tsession Express example on ${url}`);
}
