/**
 * tsession through `tsession/http`, on the store named by argv[2]: `memory`, `sqlite`
 * (a file in bench/.tmp/), `redis` (127.0.0.1:6379, its own prefix) or `postgres` (its own
 * schema, dropped on exit; every statement counted by its first keyword). Every store
 * commit is counted, so the parent can check that read-only requests write nothing.
 * `TSESSION_BENCH_TELEMETRY=1` (or `=metrics`) turns on metrics and traces (see ../lib/telemetry.ts);
 * `TSESSION_BENCH_VALIDATED=1` declares the `bench` package with a schema per key (a hand-written
 * Standard Schema, so the figure is the library's cost, not a validator's); `TSESSION_BENCH_PRINCIPAL=1`
 * gives every session a user (`setPrincipal` on each /write), so its index is kept on every commit.
 */
import { CookieClientIdManager, definePackage, SessionDataContainer, SessionManager } from 'tsession';
import { withSessions } from 'tsession/http';
import { openStore, type StoreKind } from '../lib/stores.js';
import { benchTelemetry } from '../lib/telemetry.js';
import { countCommand, countWrites, serve, text, unavailable } from './harness.js';

const kind = (process.argv[2] ?? 'memory') as StoreKind;
const opened = await openStore(kind, {}, countCommand);
if (typeof opened === 'string') unavailable(opened);
const { store } = opened;
countWrites(store, 'commit');
const telemetry = await benchTelemetry();

const validated = process.env.TSESSION_BENCH_VALIDATED === '1';
const principals = process.env.TSESSION_BENCH_PRINCIPAL === '1';
/** Accepts numbers: the least a validator can do, so the row measures the library's part. */
const number = {
  '~standard': {
    version: 1,
    vendor: 'bench',
    validate: (value: unknown) =>
      typeof value === 'number' ? { value } : { issues: [{ message: 'expected a number' }] },
  },
} as const;
const bench = definePackage('bench', { n: number, seen: number });

const manager = new SessionManager({
  clientIds: new CookieClientIdManager({ secret: 'bench-secret-bench-secret-bench-secret-0123' }),
  container: new SessionDataContainer({ store, ...(telemetry && { telemetry }) }),
  ...(validated && { packages: [bench] }),
});

serve(
  withSessions(manager, async (req, res) => {
    if (req.url === '/read') {
      const data = await req.session.get('bench');
      return text(res, 200, String(data.get('n') ?? 0));
    }
    if (req.url === '/blind') {
      // A write of a key the handler never read: one store round trip, no load.
      req.session.set('bench', 'seen', Date.now());
      return text(res, 200, 'ok');
    }
    if (req.url === '/write') {
      const data = await req.session.get('bench');
      const n = ((data.get('n') as number | undefined) ?? 0) + 1;
      data.set('n', n);
      if (principals) req.session.setPrincipal(`user-${req.session.clientId.slice(0, 2)}`);
      return text(res, 200, String(n));
    }
    text(res, 404, 'not found');
  }),
  () => opened.dispose(),
);
