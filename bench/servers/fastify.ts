/**
 * Fastify 5 with argv[2] = `bare` (no session), `tsession` (tsession/fastify on a
 * MemoryStore) or `peer` (@fastify/session + @fastify/cookie, its default memory store).
 *
 * The peer runs with `saveUninitialized: false` and `rolling: false`: with its default
 * `rolling: true` it re-sends the cookie on every response (it still would not write the
 * store on a read), and tsession re-sends it at most once per resolution, so `false` is
 * the setting closest to what tsession does. Its store's `set` is counted as a write.
 */
import { createServer } from 'node:http';
import fastifyCookie from '@fastify/cookie';
import fastifySession from '@fastify/session';
import Fastify, { type FastifyInstance } from 'fastify';
import { sessions } from 'tsession/fastify';
import { countWrites, serve } from './harness.js';
import { benchManager, SECRET } from './session-manager.js';

const mode = process.argv[2] ?? 'bare';
let handler: Parameters<typeof serve>[0] | undefined;
const app: FastifyInstance = Fastify({
  logger: false,
  serverFactory: (h) => {
    handler = h;
    // Never listened on: the harness serves `handler` on its own server.
    return createServer();
  },
});

const text = 'text/plain; charset=utf-8';
let counter = 0;
if (mode === 'bare') {
  app.get('/read', async (_request, reply) => reply.type(text).send(String(counter)));
  app.get('/write', async (_request, reply) => reply.type(text).send(String(++counter)));
} else if (mode === 'tsession') {
  await app.register(sessions, { manager: benchManager() });
  app.get('/read', async (request, reply) => {
    const data = await request.tsession.get('bench');
    return reply.type(text).send(String(data.get('n') ?? 0));
  });
  app.get('/write', async (request, reply) => {
    const data = await request.tsession.get('bench');
    const n = ((data.get('n') as number | undefined) ?? 0) + 1;
    data.set('n', n);
    return reply.type(text).send(String(n));
  });
} else {
  const store = new fastifySession.MemoryStore();
  countWrites(store as unknown as { set: () => void }, 'set');
  await app.register(fastifyCookie);
  await app.register(fastifySession, {
    secret: SECRET,
    cookie: { secure: false },
    saveUninitialized: false,
    rolling: false,
    store,
  });
  app.get('/read', async (request, reply) =>
    reply.type(text).send(String((request.session.get('n' as never) as number | undefined) ?? 0)),
  );
  app.get('/write', async (request, reply) => {
    const n = ((request.session.get('n' as never) as number | undefined) ?? 0) + 1;
    request.session.set('n' as never, n as never);
    return reply.type(text).send(String(n));
  });
}
await app.ready();
serve(handler!);
