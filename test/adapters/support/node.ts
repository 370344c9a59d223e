/** Helpers for adapters over node:http responses and servers. */
import { once } from 'node:events';
import type { Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RunningServer } from '../suite.js';
import type { SuiteResult } from './routes.js';

/** Writes a route's result to a node:http response the plain way, respecting backpressure. */
export async function renderNode(res: ServerResponse, result: SuiteResult): Promise<void> {
  switch (result.kind) {
    case 'text':
      res.setHeader('Content-Type', 'text/plain; charset=utf-8');
      res.end(result.body);
      return;
    case 'redirect':
      res.writeHead(302, { Location: result.location });
      res.end();
      return;
    case 'length':
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(result.body) });
      res.end(result.body);
      return;
    case 'stream':
      res.setHeader('Content-Type', 'text/plain');
      for (const chunk of result.chunks) {
        if (!res.write(chunk)) await Promise.race([once(res, 'drain'), once(res, 'close')]);
        await new Promise((resolve) => setImmediate(resolve));
      }
      res.end();
  }
}

/** Listens on an ephemeral loopback port. */
export async function listen(server: Server): Promise<RunningServer> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
