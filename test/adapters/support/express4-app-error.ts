/**
 * A child process for test/adapters/express4.test.ts: an Express 4 app with tsession whose
 * async route rejects with `argv[2]`'s kind of error, requested once; prints the status
 * the client got (or `no answer`) and what reached `unhandledRejection`, then exits.
 * - `app`: the app's own error, under tsession: Express 4 leaves it unhandled, and so does tsession.
 * - `before`: a tsession error in a route mounted before `sessions()`: not a tsession request, untouched.
 * A first request to `/ok` has gone through `sessions()`, so tsession's Express 4 support is installed.
 */
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import type express from 'express';
import { sessions } from '../../../src/adapters/express/index.js';
import { StoreUnavailableError } from '../../../src/errors.js';
import { memoryManager } from '../../helpers.js';

const express4 = createRequire(import.meta.url)('express4') as typeof express;
const kind = process.argv[2];
const unhandled: string[] = [];
process.on('unhandledRejection', (reason) => unhandled.push(reason instanceof Error ? reason.message : String(reason)));

const app = express4();
app.get('/before', async () => {
  throw new StoreUnavailableError('thrown before sessions()');
});
app.use(sessions(memoryManager().manager));
app.get('/ok', (_req, res) => {
  res.send('ok');
});
app.get('/app', async (req) => {
  await req.tsession.get('app.data');
  throw new Error('the app failed');
});
const server = createServer(app).listen(0, '127.0.0.1', async () => {
  const { port } = server.address() as { port: number };
  if ((await fetch(`http://127.0.0.1:${port}/ok`)).status !== 200) throw new Error('/ok did not answer 200');
  const status = await fetch(`http://127.0.0.1:${port}/${kind}`, { signal: AbortSignal.timeout(1_000) }).then(
    (response) => String(response.status),
    () => 'no answer',
  );
  console.log(JSON.stringify({ status, unhandled }));
  process.exit(0);
});
