/**
 * tsession through `tsession/http`, on the store named by argv[2]: `memory`, `sqlite`
 * (a file in bench/.tmp/), `redis` (127.0.0.1:6379, its own prefix) or `postgres` (its own
 * schema, dropped on exit; every statement counted by its first keyword). Every store
 * commit is counted, so the parent can check that read-only requests write nothing.
 * `TSESSION_BENCH_TELEMETRY=1` (or `=metrics`) turns on metrics and traces (see ../lib/telemetry.ts).
 */
import { CookieClientIdManager, SessionDataContainer, SessionManager } from 'tsession';
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

const manager = new SessionManager({
  clientIds: new CookieClientIdManager({ secret: 'bench-secret-bench-secret-bench-secret-0123' }),
  container: new SessionDataContainer({ store, ...(telemetry && { telemetry }) }),
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
      return text(res, 200, String(n));
    }
    text(res, 404, 'not found');
  }),
  () => opened.dispose(),
);
