/**
 * Hono 4 on @hono/node-server's request listener, with argv[2] = `bare` (no session),
 * `tsession` (tsession/hono on a MemoryStore) or `peer` (hono-sessions with its
 * MemoryStore, an `encryptionKey` as its README recommends, `autoExtendExpiration` left at
 * its default `true`; its store's `createSession`/`persistSessionData` are counted as writes).
 */
import { getRequestListener } from '@hono/node-server';
import { Hono } from 'hono';
import { MemoryStore as HonoMemoryStore, sessionMiddleware } from 'hono-sessions';
import type { Session } from 'tsession';
import { sessions } from 'tsession/hono';
import { countWrites, serve } from './harness.js';
import { benchManager, SECRET } from './session-manager.js';

const mode = process.argv[2] ?? 'bare';
const app = new Hono();
let counter = 0;
type Vars = { get(name: string): unknown };

if (mode === 'bare') {
  app.get('/read', (c) => c.text(String(counter)));
  app.get('/write', (c) => c.text(String(++counter)));
} else if (mode === 'tsession') {
  app.use(sessions(benchManager()));
  const handle = async (c: Vars & { text(body: string): Response }, write: boolean) => {
    const data = await (c.get('tsession') as Session).get('bench');
    let n = (data.get('n') as number | undefined) ?? 0;
    if (write) data.set('n', ++n);
    return c.text(String(n));
  };
  app.get('/read', (c) => handle(c, false));
  app.get('/write', (c) => handle(c, true));
} else {
  const store = new HonoMemoryStore();
  countWrites(store, 'createSession');
  countWrites(store, 'persistSessionData');
  app.use(
    sessionMiddleware({
      store,
      encryptionKey: SECRET,
      expireAfterSeconds: 1800,
      cookieOptions: { sameSite: 'Lax', path: '/', httpOnly: true },
    }) as never,
  );
  type PeerSession = { get(k: string): unknown; set(k: string, v: unknown): void };
  app.get('/read', (c) => c.text(String(((c.get('session' as never) as PeerSession).get('n') as number) ?? 0)));
  app.get('/write', (c) => {
    const session = c.get('session' as never) as PeerSession;
    const n = ((session.get('n') as number | undefined) ?? 0) + 1;
    session.set('n', n);
    return c.text(String(n));
  });
}
serve(getRequestListener(app.fetch));
