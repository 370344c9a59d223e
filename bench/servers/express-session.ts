/**
 * Express 5 + express-session (resave and saveUninitialized off, as its docs advise),
 * with argv[2] = `memory` (its MemoryStore, the default) or `redis` (connect-redis 9 on a
 * node-redis 5 client, 127.0.0.1:6379, its own key prefix, deleted on exit). The store's
 * `set` and `touch` are counted as writes.
 */
import { randomUUID } from 'node:crypto';
import { RedisStore } from 'connect-redis';
import express from 'express';
import session from 'express-session';
import { createClient } from 'redis';
import { countWrites, serve, unavailable } from './harness.js';
import { SECRET } from './session-manager.js';

declare module 'express-session' {
  interface SessionData {
    n: number;
  }
}

const kind = process.argv[2] ?? 'memory';
let store: session.Store;
let dispose = async () => {};
if (kind === 'redis') {
  const client = createClient({ url: 'redis://127.0.0.1:6379', name: `bench-${process.pid}` });
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (error) {
    unavailable(`Redis on 127.0.0.1:6379 unavailable (${(error as Error).message})`);
  }
  const prefix = `express-session-bench-${randomUUID().slice(0, 8)}:`;
  store = new RedisStore({ client, prefix });
  dispose = async () => {
    for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 1000 })) {
      if (keys.length > 0) await client.del(keys);
    }
    await client.quit();
  };
} else {
  store = new session.MemoryStore();
}
countWrites(store, 'set');
countWrites(store, 'touch');

const app = express();
app.use(session({ secret: SECRET, resave: false, saveUninitialized: false, store }));
app.get('/read', (req, res) => {
  res.type('text/plain').send(String(req.session.n ?? 0));
});
app.get('/write', (req, res) => {
  req.session.n = (req.session.n ?? 0) + 1;
  res.type('text/plain').send(String(req.session.n));
});
serve(app, dispose);
