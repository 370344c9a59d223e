/**
 * The same endpoints as tsession.ts on MemoryStore, but without `tsession/http`: the
 * handler opens the session, commits and writes the headers itself. Comparing it with
 * tsession.ts separates the adapter's cost from the core's.
 */
import { CookieClientIdManager, SessionDataContainer, SessionManager, type SessionRequest } from 'tsession';
import { MemoryStore } from 'tsession/memory';
import { countWrites, serve, text } from './harness.js';

const store = new MemoryStore();
countWrites(store, 'commit');
const manager = new SessionManager({
  clientIds: new CookieClientIdManager({ secret: 'bench-secret-bench-secret-bench-secret-0123' }),
  container: new SessionDataContainer({ store }),
});

serve(async (req, res) => {
  const request: SessionRequest = {
    method: req.method ?? 'GET',
    url: req.url ?? '/',
    secure: false,
    header: (name) => req.headers[name] as string | undefined,
  };
  const session = manager.open(request);
  const data = await session.get('bench');
  let body: string;
  if (req.url === '/read') {
    body = String(data.get('n') ?? 0);
  } else if (req.url === '/write') {
    const n = ((data.get('n') as number | undefined) ?? 0) + 1;
    data.set('n', n);
    body = String(n);
  } else {
    session.abort();
    return text(res, 404, 'not found');
  }
  await session.commit();
  for (const [name, value] of session.responseHeaders) res.appendHeader(name, value);
  text(res, 200, body);
});
