/**
 * Koa 3 with argv[2] = `bare` (no session), `tsession` (tsession/koa on a MemoryStore)
 * or `peer` (koa-session with an external store over a Map, as its README shows:
 * `get`/`set`/`destroy`; `set` is counted as a write). koa-session's own defaults
 * (`rolling: false`, `renew: false`, signed cookies) are kept.
 */
import Koa from 'koa';
import koaSession from 'koa-session';
import { sessions } from 'tsession/koa';
import { countWrites, serve } from './harness.js';
import { benchManager, SECRET } from './session-manager.js';

const mode = process.argv[2] ?? 'bare';
const app = new Koa();
app.keys = [SECRET];
type Ctx = Koa.Context;
let counter = 0;

if (mode === 'bare') {
  app.use(async (ctx: Ctx) => {
    if (ctx.path === '/read') ctx.body = String(counter);
    else if (ctx.path === '/write') ctx.body = String(++counter);
  });
} else if (mode === 'tsession') {
  app.use(sessions(benchManager()));
  app.use(async (ctx: Ctx) => {
    const session = ctx.tsession;
    if (ctx.path !== '/read' && ctx.path !== '/write') return;
    const data = await session.get('bench');
    let n = (data.get('n') as number | undefined) ?? 0;
    if (ctx.path === '/write') data.set('n', ++n);
    ctx.body = String(n);
  });
} else {
  const map = new Map<string, unknown>();
  const store = {
    async get(key: string) {
      return map.get(key);
    },
    async set(key: string, value: unknown) {
      map.set(key, value);
    },
    async destroy(key: string) {
      map.delete(key);
    },
  };
  countWrites(store, 'set');
  app.use(koaSession({ store }, app));
  app.use(async (ctx: Ctx) => {
    const session = (ctx as unknown as { session: Record<string, unknown> }).session;
    if (ctx.path !== '/read' && ctx.path !== '/write') return;
    let n = (session.n as number | undefined) ?? 0;
    if (ctx.path === '/write') session.n = ++n;
    ctx.body = String(n);
  });
}
serve(app.callback());
