/** Helpers for adapters over Web Request/Response, served on Node through @hono/node-server. */
import type { Server } from 'node:http';
import { createAdaptorServer } from '@hono/node-server';
import type { RunningServer } from '../suite.js';
import { listen } from './node.js';
import type { SuiteResult } from './routes.js';

/** A route's result as a Web Response. */
export function renderWeb(result: SuiteResult): Response {
  switch (result.kind) {
    case 'text':
      return new Response(result.body, { headers: { 'Content-Type': 'text/plain; charset=utf-8' } });
    case 'redirect':
      return new Response(null, { status: 302, headers: { Location: result.location } });
    case 'length':
      return new Response(result.body, {
        headers: { 'Content-Type': 'text/plain', 'Content-Length': String(Buffer.byteLength(result.body)) },
      });
    case 'stream': {
      const chunks = [...result.chunks];
      const encoder = new TextEncoder();
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          await new Promise((resolve) => setImmediate(resolve));
          const chunk = chunks.shift();
          if (chunk === undefined) controller.close();
          else controller.enqueue(encoder.encode(chunk));
        },
      });
      return new Response(body, { headers: { 'Content-Type': 'text/plain' } });
    }
  }
}

/** Serves a fetch handler on an ephemeral loopback port. */
export function serveFetch(fetch: (request: Request) => Response | Promise<Response>): Promise<RunningServer> {
  return listen(createAdaptorServer({ fetch: (request) => fetch(request) }) as Server);
}
