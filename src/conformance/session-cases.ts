import { strict as assert } from 'node:assert';
import { CookieClientIdManager } from '../client-id/cookie.js';
import type { HeaderEntry, SessionRequest } from '../client-id/types.js';
import { SessionDataContainer, type SessionDataContainerOptions } from '../container/container.js';
import { ConflictError } from '../errors.js';
import { SessionManager } from '../session/manager.js';
import type { Session } from '../session/session.js';
import { type Harness, T0 } from './harness.js';

const SECRET = 'conformance-secret-0123456789-abcdefghij';

/** Whole-request scenarios of the SPEC through SessionManager, a container and the cookie id manager. */
export function sessionCases({ t, store, caps }: Harness): void {
  /** A manager over the test's store, on a clock the test moves by hand. */
  const setup = (options: Partial<SessionDataContainerOptions> = {}) => {
    const clock = { now: T0 };
    const now = () => clock.now;
    const container = new SessionDataContainer({ store: store(), clock: now, ...options });
    const manager = new SessionManager({
      clientIds: new CookieClientIdManager({ secret: SECRET, clock: now }),
      container,
    });
    return { manager, clock };
  };

  t.describe('sessions over the store', () => {
    t.it('a counter over three requests reads 1, 2, 3 (SPEC 16)', async () => {
      const { manager } = setup();
      let cookie: string | undefined;
      for (const expected of [1, 2, 3]) {
        const session = manager.open(request(cookie));
        const data = await session.get('app.counter');
        data.set('count', ((data.get('count') as number | undefined) ?? 0) + 1);
        await session.commit();
        cookie = cookieOf(session.responseHeaders) ?? cookie;
        assert.equal(await readValue(manager, cookie, 'app.counter', 'count'), expected);
      }
    });

    t.it('two concurrent requests writing different keys both keep their changes (SPEC 35)', async () => {
      const { manager } = setup();
      const cookie = await start(manager, { base: 'x' });
      const a = manager.open(request(cookie));
      const b = manager.open(request(cookie));
      const [da, db] = await Promise.all([a.get('app.data'), b.get('app.data')]);
      da.set('a', 1);
      db.set('b', 2);
      await Promise.all([a.commit(), b.commit()]);
      const data = await manager.open(request(cookie)).get('app.data');
      assert.deepEqual(data.toJSON(), { base: 'x', a: 1, b: 2 });
    });

    if (caps.perKeyVersions) {
      t.it(
        'two requests that read then write one key: the later commit fails with ConflictError (SPEC 36)',
        async () => {
          const { manager } = setup();
          const cookie = await start(manager, { n: 1 });
          const a = manager.open(request(cookie));
          const b = manager.open(request(cookie));
          const [da, db] = await Promise.all([a.get('app.data'), b.get('app.data')]);
          da.set('n', (da.get('n') as number) + 10);
          db.set('n', (db.get('n') as number) + 100);
          await a.commit();
          await assert.rejects(b.commit(), (e: unknown) => e instanceof ConflictError && e.reason === 'version');
          assert.equal(await readValue(manager, cookie, 'app.data', 'n'), 11);
        },
      );
    }

    if (caps.perKeyVersions) {
      t.it('a read-then-write request loses to a delete and a rewrite of the key in between (no ABA)', async () => {
        const { manager } = setup();
        const cookie = await start(manager, { x: 'first' });
        const slow = manager.open(request(cookie));
        const slowData = await slow.get('app.data');
        const seen = slowData.get('x');
        const remover = manager.open(request(cookie));
        (await remover.get('app.data')).delete('x');
        await remover.commit();
        const writer = manager.open(request(cookie));
        (await writer.get('app.data')).set('x', 'C');
        await writer.commit();
        slowData.set('x', `${String(seen)} + A`);
        await assert.rejects(slow.commit(), (e: unknown) => e instanceof ConflictError && e.reason === 'version');
        assert.equal(await readValue(manager, cookie, 'app.data', 'x'), 'C');
      });
    }

    t.it('invalidate is final: a slower concurrent commit cannot bring the session back (SPEC 37)', async () => {
      const { manager } = setup();
      const cookie = await start(manager, { user: 'ann' });
      const slow = manager.open(request(cookie));
      const logout = manager.open(request(cookie));
      const [slowData] = await Promise.all([slow.get('app.data'), logout.get('app.data')]);
      logout.invalidate();
      await logout.commit();
      slowData.set('cart', ['book']);
      await assert.rejects(slow.commit(), (e: unknown) => e instanceof ConflictError && e.reason === 'gone');
      const after = manager.open(request(cookie));
      assert.equal(await after.peek('app.data'), undefined);
    });

    t.it('expiry follows timeout and resolution exactly on the injected clock (SPEC 24)', async () => {
      const { manager, clock } = setup({ timeout: 60, resolution: 3 });
      const kept = await start(manager, { v: 'kept' });
      const idle = await start(manager, { v: 'idle' });
      clock.now = T0 + 63;
      assert.equal(await readValue(manager, kept, 'app.data', 'v'), 'kept');
      clock.now = T0 + 63.5;
      assert.equal(await manager.open(request(idle)).peek('app.data'), undefined);
      assert.equal(await readValue(manager, kept, 'app.data', 'v'), 'kept');
      clock.now = T0 + 63 + 63.5;
      assert.equal(await manager.open(request(kept)).peek('app.data'), undefined);
    });

    if (caps.atomicRegenerate) {
      t.it('regenerate moves the data to a new id and the old id reads empty (SPEC 20)', async () => {
        const { manager } = setup();
        const oldCookie = await start(manager, { user: 'ann' });
        const session = manager.open(request(oldCookie));
        await session.regenerate();
        await session.commit();
        const newCookie = cookieOf(session.responseHeaders);
        assert.ok(newCookie && newCookie !== oldCookie);
        assert.equal(await readValue(manager, newCookie, 'app.data', 'user'), 'ann');
        assert.equal(await manager.open(request(oldCookie)).peek('app.data'), undefined);
      });
    }
  });
}

/** Starts a session holding `values` in `app.data`; resolves its cookie. */
async function start(manager: SessionManager, values: Record<string, unknown>): Promise<string> {
  const session = manager.open(request());
  const data = await session.get('app.data');
  for (const [key, value] of Object.entries(values)) data.set(key, value);
  await session.commit();
  const cookie = cookieOf(session.responseHeaders);
  assert.ok(cookie, 'a new session must set a cookie');
  return cookie;
}

/** Reads one value in a request of its own, committing it (so a due touch is written). */
async function readValue(manager: SessionManager, cookie: string | undefined, pkg: string, key: string) {
  const session: Session = manager.open(request(cookie));
  const value = (await session.get(pkg)).get(key);
  await session.commit();
  return value;
}

function request(cookie?: string): SessionRequest {
  return {
    method: 'POST',
    url: '/',
    secure: false,
    header: (name) => (name === 'cookie' ? cookie : undefined),
  };
}

function cookieOf(headers: readonly HeaderEntry[]): string | undefined {
  return headers.find(([name]) => name.toLowerCase() === 'set-cookie')?.[1].split(';')[0];
}
