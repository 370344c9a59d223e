/**
 * Express 5 + express-session with its MemoryStore (resave and saveUninitialized off,
 * as its docs advise). The store's `set` and `touch` are counted as writes.
 */
import express from 'express';
import session from 'express-session';
import { countWrites, serve } from './harness.js';

declare module 'express-session' {
  interface SessionData {
    n: number;
  }
}

const store = new session.MemoryStore();
countWrites(store, 'set');
countWrites(store, 'touch');

const app = express();
app.use(
  session({ secret: 'bench-secret-bench-secret-bench-secret-0123', resave: false, saveUninitialized: false, store }),
);
app.get('/read', (req, res) => {
  res.type('text/plain').send(String(req.session.n ?? 0));
});
app.get('/write', (req, res) => {
  req.session.n = (req.session.n ?? 0) + 1;
  res.type('text/plain').send(String(req.session.n));
});
serve(app);
