/** Plain Express 5 with no session: the framework's own ceiling, for the session layer's share. */
import express from 'express';
import { serve } from './harness.js';

let counter = 0;
const app = express();
app.get('/read', (_req, res) => {
  res.type('text/plain').send(String(counter));
});
app.get('/write', (_req, res) => {
  res.type('text/plain').send(String(++counter));
});
serve(app);
