import { describe, expect, it } from 'vitest';
import {
  SessionConfigError,
  SessionDataContainer,
  type SessionDataContainerOptions,
  type SessionEndReason,
  SessionLimitError,
  SessionManager,
  SessionTooLargeError,
} from '../../src/index.js';
import { MemoryStore } from '../../src/stores/memory/index.js';
import { browser, cookieFrom, countCalls, keyOf, manualClock, memoryManager, request } from '../helpers.js';

const newStore = () => new MemoryStore({ sweepIntervalSeconds: 0 });

/** A client with a session that holds `counter.count = 1`, created at the clock's time. */
async function startSession(manager: SessionManager) {
  const client = browser(manager);
  const { session } = await client.visit(async (s) => (await s.get('counter')).set('count', 1));
  return { client, key: keyOf(session.clientId) };
}

const readCount = async (client: ReturnType<typeof browser>) =>
  (await client.visit(async (s) => (await s.get('counter')).get('count'))).result;

describe('SPEC 22-30: containers, timeout and resolution', () => {
  it('SPEC 22: a package id with a container of its own lands in that container; unknown in the default', async () => {
    const clock = manualClock();
    const fooStore = newStore();
    const foo = new SessionDataContainer({ store: fooStore, clock });
    const { manager, store: defaultStore } = memoryManager({ clock, containers: { 'products.foo': foo } });
    expect(manager.containerFor('products.foo')).toBe(foo);
    expect(manager.containerFor('unknown')).toBe(manager.containers[0]);
    const client = browser(manager);
    const { session } = await client.visit(async (s) => {
      (await s.get('products.foo')).set('color', 'red');
      (await s.get('unknown')).set('color', 'blue');
    });
    const key = keyOf(session.clientId);
    const inFoo = await fooStore.load(key, clock());
    const inDefault = await defaultStore.load(key, clock());
    expect(inFoo?.entries.map((e) => [e.pkg, e.key, e.value])).toEqual([['products.foo', 'color', '"red"']]);
    expect(inDefault?.entries.map((e) => [e.pkg, e.key, e.value])).toEqual([['unknown', 'color', '"blue"']]);
  });

  it('SPEC 23: L is written only when L + resolution < now; read-only requests inside the window write nothing', async () => {
    const clock = manualClock(1_000);
    const { manager, store } = memoryManager({ clock, container: { timeout: 3_600, resolution: 600 } });
    const { client, key } = await startSession(manager);
    const calls = countCalls(store);
    for (const t of [1_000, 1_001, 1_300, 1_599.9, 1_600]) {
      clock.set(t);
      expect(await readCount(client)).toBe(1);
    }
    expect(calls.commit).toBe(0);
    expect((await store.load(key, clock()))?.lastAccess).toBe(1_000);

    clock.set(1_600.5);
    expect(await readCount(client)).toBe(1);
    expect(calls.commit).toBe(1);
    expect((await store.load(key, clock()))?.lastAccess).toBe(1_600.5);
    clock.set(2_200);
    expect(await readCount(client)).toBe(1);
    expect(calls.commit).toBe(1);
  });

  it('SPEC 22: containers and managers check their options at construction', () => {
    const store = newStore();
    const make = (options: Partial<SessionDataContainerOptions>) => () =>
      new SessionDataContainer({ store, ...options } as SessionDataContainerOptions);
    expect(make({ store: undefined as never })).toThrow(/SessionDataContainer: `store` is required/);
    expect(make({ timeout: -1 })).toThrow(/`timeout` must be a number of seconds ≥ 0/);
    expect(make({ resolution: Number.NaN })).toThrow(/`resolution` must be a number of seconds ≥ 0/);
    expect(make({ maxSessionBytes: 0 })).toThrow(SessionConfigError);
    expect(make({ limit: { max: 1, policy: 'drop' as never } })).toThrow(/`limit.policy` must be 'reject' or 'evict'/);
    const noLimits = Object.assign(newStore(), { capabilities: { ...store.capabilities, limit: false } });
    expect(make({ store: noLimits, limit: { max: 1, policy: 'reject' } })).toThrow(/cannot enforce a `limit`/);
    const container = new SessionDataContainer({ store });
    expect(() => new SessionManager({ container } as never)).toThrow(/SessionManager needs `clientIds`/);
    expect(() => new SessionManager({ clientIds: memoryManager().clientIds } as never)).toThrow(
      /SessionManager needs a default `container`/,
    );
  });

  it('SPEC 23: the defaults are timeout 3600 and resolution 600', () => {
    const container = new SessionDataContainer({ store: newStore() });
    expect([container.timeout, container.resolution]).toEqual([3_600, 600]);
  });

  it('SPEC 24: expiry arithmetic: timeout 60, resolution 3, L=1000: alive at 1063.0 (L becomes 1063), empty at 1063.5', async () => {
    const options = { timeout: 60, resolution: 3 };
    const clock = manualClock(1_000);
    const { manager, store } = memoryManager({ clock, container: options });
    const { client, key } = await startSession(manager);
    expect((await store.load(key, 1_000))?.lastAccess).toBe(1_000);
    clock.set(1_063);
    expect(await readCount(client)).toBe(1);
    expect((await store.load(key, 1_063))?.lastAccess).toBe(1_063);

    const other = memoryManager({ clock: manualClock(1_000), container: options });
    const second = await startSession(other.manager);
    (other.clock as ReturnType<typeof manualClock>).set(1_063.5);
    expect(await readCount(second.client)).toBeUndefined();
    expect(other.container.isExpired({ lastAccess: 1_000 }, 1_063)).toBe(false);
    expect(other.container.isExpired({ lastAccess: 1_000 }, 1_063.5)).toBe(true);
  });

  it('SPEC 25: with timeout 0, L is never written again and data never expires', async () => {
    const clock = manualClock(1_000);
    const { manager, store } = memoryManager({ clock, container: { timeout: 0 } });
    const { client, key } = await startSession(manager);
    expect((await store.load(key, clock()))?.expiresAt).toBeNull();
    const calls = countCalls(store);
    for (const t of [5_000, 1_000_000, 1e10]) {
      clock.set(t);
      expect(await readCount(client)).toBe(1);
    }
    expect(calls.commit).toBe(0);
    expect(await manager.sweep()).toBe(0);
    expect((await store.load(key, clock()))?.lastAccess).toBe(1_000);
  });

  it('SPEC 26: an expired session reads empty at once, unswept, and its old data never comes back', async () => {
    const clock = manualClock(1_000);
    const { manager, store } = memoryManager({ clock, container: { timeout: 60, resolution: 3 } });
    const { client, key } = await startSession(manager);
    const oldCookie = client.cookie as string;
    const slow = client.open();
    expect((await slow.get('counter')).get('count')).toBe(1);

    clock.set(1_100);
    expect(store.size).toBe(1);
    expect(await readCount(client)).toBeUndefined();
    // a request that loaded before the expiry cannot write the session back
    (await slow.get('counter')).set('count', 2);
    await expect(slow.commit()).rejects.toMatchObject({ name: 'ConflictError', reason: 'gone' });

    // a write under the expired id starts a fresh session
    const { session } = await client.visit(async (s) => {
      const data = await s.get('counter');
      expect(data.get('count')).toBeUndefined();
      data.set('fresh', true);
    });
    expect(keyOf(session.clientId)).not.toBe(key);
    const replay = manager.open(request({ cookie: oldCookie }));
    expect(await replay.peek('counter')).toBeUndefined();
    expect(await manager.sweep()).toBe(1);
    expect(await store.load(key, 1_000)).toBeUndefined();
    expect((await client.visit(async (s) => (await s.get('counter')).toJSON())).result).toEqual({ fresh: true });
  });

  it('SPEC 27: sweep() removes exactly the expired records and reports how many', async () => {
    const clock = manualClock(1_000);
    const ended: string[] = [];
    const { manager, store } = memoryManager({
      clock,
      container: { timeout: 100, resolution: 10, onEnd: (key, reason) => ended.push(`${reason}:${key}`) },
    });
    const old: string[] = [];
    for (let i = 0; i < 30; i++) old.push((await startSession(manager)).key);
    clock.set(1_050);
    const young: string[] = [];
    for (let i = 0; i < 20; i++) young.push((await startSession(manager)).key);
    clock.set(1_110);
    expect(await manager.sweep()).toBe(0);
    clock.set(1_110.5);
    expect(store.size).toBe(50);
    expect(await manager.sweep()).toBe(30);
    expect(store.size).toBe(20);
    expect(ended.sort()).toEqual(old.map((k) => `expired:${k}`).sort());
    for (const k of young) expect(await store.load(k, clock())).toBeDefined();
    expect(await manager.sweep()).toBe(0);
  });

  it('SPEC 28: a container limit rejects one more session with SessionLimitError, storing nothing', async () => {
    const clock = manualClock(1_000);
    const { manager, store } = memoryManager({ clock, container: { limit: { max: 2, policy: 'reject' } } });
    const first = await startSession(manager);
    await startSession(manager);
    const third = manager.open(request());
    (await third.get('counter')).set('count', 1);
    await expect(third.commit()).rejects.toThrow(SessionLimitError);
    expect(third.responseHeaders).toEqual([]);
    expect(store.size).toBe(2);
    // existing sessions still write
    await first.client.visit(async (s) => (await s.get('counter')).set('count', 2));
    expect(await readCount(first.client)).toBe(2);
  });

  it('SPEC 28: an evict limit removes the least recently used session and reports it to onEnd', async () => {
    const clock = manualClock(1_000);
    const ended: [string, SessionEndReason][] = [];
    const { manager, store } = memoryManager({
      clock,
      container: { resolution: 10, limit: { max: 2, policy: 'evict' }, onEnd: (k, r) => ended.push([k, r]) },
    });
    const a = await startSession(manager);
    clock.advance(100);
    const b = await startSession(manager);
    clock.advance(100);
    expect(await readCount(a.client)).toBe(1); // a is now more recently used than b
    clock.advance(100);
    const c = await startSession(manager);
    expect(ended).toEqual([[b.key, 'evicted']]);
    expect(store.size).toBe(2);
    expect(await readCount(a.client)).toBe(1);
    expect(await readCount(b.client)).toBeUndefined();
    expect(await readCount(c.client)).toBe(1);
    expect(
      () =>
        new SessionDataContainer({
          store: newStore(),
          limit: { max: 0, policy: 'evict' },
        } as SessionDataContainerOptions),
    ).toThrow(SessionConfigError);
  });

  it('SPEC 29: onStart and onEnd report starts, invalidations, regenerations and expiry', async () => {
    const clock = manualClock(1_000);
    const events: string[] = [];
    const { manager } = memoryManager({
      clock,
      container: {
        timeout: 60,
        resolution: 3,
        onStart: (key) => events.push(`start:${key}`),
        onEnd: (key, reason) => events.push(`${reason}:${key}`),
      },
    });
    const a = await startSession(manager);
    const { session } = await a.client.visit((s) => s.regenerate());
    const regenerated = keyOf(session.clientId);
    await a.client.visit((s) => s.invalidate());
    const b = await startSession(manager);
    clock.advance(100);
    await manager.sweep();
    expect(events).toEqual([
      `start:${a.key}`,
      `start:${regenerated}`,
      `regenerated:${a.key}`,
      `invalidated:${regenerated}`,
      `start:${b.key}`,
      `expired:${b.key}`,
    ]);
  });

  it('SPEC 29: a hook that throws goes to onHookError and never breaks the request', async () => {
    const clock = manualClock(1_000);
    const errors: unknown[] = [];
    const { manager } = memoryManager({
      clock,
      container: {
        onStart: () => {
          throw new Error('start hook');
        },
        onEnd: () => {
          throw new Error('end hook');
        },
        onHookError: (error) => errors.push(error),
      },
    });
    const { client } = await startSession(manager);
    expect(await readCount(client)).toBe(1);
    const { headers } = await client.visit((s) => s.invalidate());
    expect(headers.length).toBeGreaterThan(0);
    expect(errors.map((e) => (e as Error).message)).toEqual(['start hook', 'end hook']);
  });

  it('SPEC 30: two concurrent requests that only refresh L both succeed; L keeps the later value', async () => {
    const store = newStore();
    const early = manualClock(1_000);
    const late = manualClock(1_000);
    const one = memoryManager({ store, clock: early, container: { resolution: 10 } });
    const two = memoryManager({ store, clock: late, container: { resolution: 10 } });
    const { client, key } = await startSession(one.manager);
    early.set(1_050);
    late.set(1_060);
    const first = one.manager.open(request({ cookie: client.cookie as string }));
    const second = two.manager.open(request({ cookie: client.cookie as string }));
    expect((await first.get('counter')).get('count')).toBe(1);
    expect((await second.get('counter')).get('count')).toBe(1);
    await second.commit();
    await first.commit();
    const record = await store.load(key, 1_060);
    expect(record?.lastAccess).toBe(1_060);
    expect(record?.expiresAt).toBe(1_060 + 3_600 + 10);
  });
});

describe('caps on packages and keys per session', () => {
  it('refuses a new key past maxKeysPerPackage and a new package past maxPackages, at the set that would pass them', async () => {
    const { manager } = memoryManager({ container: { maxKeysPerPackage: 2, maxPackages: 2 } });
    const session = manager.open(request());
    const a = await session.get('caps.a');
    a.set('k1', 1).set('k2', 2);
    a.set('k1', 3); // replacing a key adds none
    expect(() => a.set('k3', 3)).toThrow(SessionTooLargeError);
    expect(() => a.set('k3', 3)).toThrow(/maxKeysPerPackage/);
    (await session.get('caps.b')).set('k', 1);
    const c = await session.get('caps.c');
    expect(() => c.set('k', 1)).toThrow(/2 packages.*maxPackages|maxPackages/);
    await session.commit();
    expect(cookieFrom(session.responseHeaders)).toBeDefined();
  });

  it('maxSessionBytes counts UTF-8 bytes of package ids, keys and values, before any store write', async () => {
    const { manager, store } = memoryManager({ container: { maxSessionBytes: 100 } });
    const calls = countCalls(store);
    const client = browser(manager);
    // 30 CJK characters: 32 UTF-16 code units as JSON, 92 UTF-8 bytes; with 'cjk' and 'v' 96 bytes.
    await client.visit(async (s) => (await s.get('cjk')).set('v', '漢'.repeat(30)));
    expect(calls.commit).toBe(1);
    const session = client.open();
    (await session.get('cjk')).set('w', '字'); // 3 + 1 + 5 bytes more: 105 > 100, though only 37 code units
    await expect(session.commit()).rejects.toMatchObject({ name: 'SessionTooLargeError', size: 105, limit: 100 });
    expect(calls.commit).toBe(1);
  });

  it('a blind write (session.set without a load) past maxSessionBytes is refused by the store, writing nothing', async () => {
    const { manager, store } = memoryManager({ container: { maxSessionBytes: 100 } });
    const client = browser(manager);
    await client.visit(async (s) => (await s.get('p')).set('a', 'x'.repeat(60)));
    const blind = client.open();
    blind.set('p', 'b', 'y'.repeat(60)); // the request never loads: only the store sees the 60 bytes already stored
    await expect(blind.commit()).rejects.toMatchObject({ name: 'SessionTooLargeError', limit: 100 });
    const { result } = await client.visit(async (s) => (await s.get('p')).toJSON());
    expect(result).toEqual({ a: 'x'.repeat(60) });
    expect(store.size).toBe(1);
  });

  it('refuses caps that are not positive integers', () => {
    expect(() => memoryManager({ container: { maxPackages: 0 } })).toThrow(/maxPackages/);
  });
});
