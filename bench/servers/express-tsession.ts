/** Express 5 + tsession/express on a MemoryStore: the same endpoints as express-session.ts. */
import express from 'express';
import { sessions } from 'tsession/express';
import { serve } from './harness.js';
import { benchManager } from './session-manager.js';

const app = express();
app.use(sessions(benchManager()));
app.get('/read', async (req, res) => {
  const data = await req.tsession.get('bench');
  res.type('text/plain').send(String(data.get('n') ?? 0));
});
app.get('/write', async (req, res) => {
  const data = await req.tsession.get('bench');
  const n = ((data.get('n') as number | undefined) ?? 0) + 1;
  data.set('n', n);
  res.type('text/plain').send(String(n));
});
serve(app);
