import { describe, expect, it } from 'vitest';
import { ConflictError, SessionStateError, type SessionStore } from '../../src/index.js';
import { SessionNameError } from '../../src/session/names.js';
import { MemoryStore } from '../../src/stores/memory/index.js';
import { cookieFrom, memoryManager, request } from '../helpers.js';

type Env = ReturnType<typeof memoryManager>;

/** Starts a session holding `values` in `app.c`; its cookie. */
async function start(env: Env, values: Record<string, unknown> = {}): Promise<string> {
  const session = env.manager.open(request());
  const data = await session.get('app.c');
  for (const [k, v] of Object.entries(values)) data.set(k, v);
  data.set('seed', true);
  await session.commit();
  return cookieFrom(session.responseHeaders) as string;
}

async function read(env: Env, cookie: string): Promise<Record<string, unknown>> {
  return (await env.manager.open(request({ cookie })).get('app.c')).toJSON();
}

/** A memory store that does not declare `increments`, as a third-party store might not. */
function withoutIncrements(): SessionStore {
  const store = new MemoryStore({ sweepIntervalSeconds: 0 });
  const capabilities = { ...store.capabilities, increments: false };
  return new Proxy(store, {
    get: (target, p) => {
      if (p === 'capabilities') return capabilities;
      const value = Reflect.get(target, p);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

describe('data.increment', () => {
  it('returns the request’s view and commits an add the store applies, with no version check', async () => {
    const env = memoryManager();
    const cookie = await start(env, { n: 5 });
    const a = env.manager.open(request({ cookie }));
    const b = env.manager.open(request({ cookie }));
    const [da, db] = await Promise.all([a.get('app.c'), b.get('app.c')]);
    expect(da.get('n')).toBe(5);
    expect(da.increment('n')).toBe(6);
    expect(da.increment('n', 10)).toBe(16);
    expect(db.increment('n', -2)).toBe(3);
    expect(db.increment('fresh')).toBe(1);
    await Promise.all([a.commit(), b.commit()]);
    expect(await read(env, cookie)).toMatchObject({ n: 14, fresh: 1 });
  });

  it('a set after an increment wins; an increment after a set adds to the value set', async () => {
    const env = memoryManager();
    const cookie = await start(env, { n: 5, m: 5 });
    const s = env.manager.open(request({ cookie }));
    const data = await s.get('app.c');
    data.increment('n', 3);
    data.set('n', 100);
    data.set('m', 50);
    expect(data.increment('m', 2)).toBe(52);
    data.delete('gone');
    expect(data.increment('gone')).toBe(1);
    await s.commit();
    expect(await read(env, cookie)).toMatchObject({ n: 100, m: 52, gone: 1 });
  });

  it('refuses an amount or a value that is not a safe integer, and a name that is not a key', async () => {
    const env = memoryManager();
    const cookie = await start(env, { text: 'x', big: Number.MAX_SAFE_INTEGER });
    const data = await env.manager.open(request({ cookie })).get('app.c');
    expect(() => data.increment('text')).toThrow(SessionStateError);
    expect(() => data.increment('n', 1.5)).toThrow(SessionStateError);
    expect(() => data.increment('big')).toThrow(SessionStateError);
    expect(() => data.increment('a\0b' as string)).toThrow(SessionNameError);
  });

  it('on a store without increments it is a checked read-modify-write: a race conflicts, nothing is lost', async () => {
    const env = memoryManager({ store: withoutIncrements() });
    expect(env.container.mergesIncrements).toBe(false);
    const cookie = await start(env, { n: 1 });
    const a = env.manager.open(request({ cookie }));
    const b = env.manager.open(request({ cookie }));
    const [da, db] = await Promise.all([a.get('app.c'), b.get('app.c')]);
    da.increment('n');
    db.increment('n');
    await a.commit();
    await expect(b.commit()).rejects.toBeInstanceOf(ConflictError);
    expect(await read(env, cookie)).toMatchObject({ n: 2 });
  });

  it('a codec that does not write integers as JSON turns the merge off', async () => {
    const codec = { encode: (v: unknown) => `v:${JSON.stringify(v)}`, decode: (t: string) => JSON.parse(t.slice(2)) };
    const env = memoryManager({ container: { codec } });
    expect(env.container.mergesIncrements).toBe(false);
    const cookie = await start(env, { n: 1 });
    const s = env.manager.open(request({ cookie }));
    (await s.get('app.c')).increment('n', 4);
    await s.commit();
    expect(await read(env, cookie)).toMatchObject({ n: 5 });
  });
});

describe('conflict resolvers', () => {
  it('merge a conflicting key without re-running the handler; other keys keep their checks', async () => {
    const env = memoryManager({
      container: {
        resolvers: { 'app.c': { n: (stored, read, mine) => Number(stored) + Number(mine) - Number(read) } },
      },
    });
    const cookie = await start(env, { n: 10, other: 'x' });
    const a = env.manager.open(request({ cookie }));
    const b = env.manager.open(request({ cookie }));
    const [da, db] = await Promise.all([a.get('app.c'), b.get('app.c')]);
    da.set('n', (da.get('n') as number) + 1);
    db.set('n', (db.get('n') as number) + 5);
    await a.commit();
    await b.commit();
    expect(await read(env, cookie)).toMatchObject({ n: 16 });

    const c = env.manager.open(request({ cookie }));
    const d = env.manager.open(request({ cookie }));
    const [dc, dd] = await Promise.all([c.get('app.c'), d.get('app.c')]);
    dc.set('other', `${dc.get('other')}c`);
    dd.set('other', `${dd.get('other')}d`);
    await c.commit();
    await expect(d.commit()).rejects.toMatchObject({ reason: 'version' });
  });

  it('a resolver may delete (undefined), and a session ended meanwhile stays ended (gone)', async () => {
    const env = memoryManager({ container: { resolvers: { 'app.c': () => undefined } } });
    const cookie = await start(env, { n: 1 });
    const a = env.manager.open(request({ cookie }));
    const b = env.manager.open(request({ cookie }));
    const [da, db] = await Promise.all([a.get('app.c'), b.get('app.c')]);
    da.set('n', (da.get('n') as number) + 1);
    db.set('n', (db.get('n') as number) + 2);
    await a.commit();
    await b.commit();
    expect(await read(env, cookie)).not.toHaveProperty('n');

    const c = env.manager.open(request({ cookie }));
    (await c.get('app.c')).set('seed', (await c.get('app.c')).get('seed') ? 'x' : 'y');
    const end = env.manager.open(request({ cookie }));
    end.invalidate();
    await end.commit();
    await expect(c.commit()).rejects.toMatchObject({ reason: 'gone' });
  });
});
