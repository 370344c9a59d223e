/**
 * Issue 11 finding 3: package ids and keys that no store keeps faithfully (a lone
 * surrogate, a NUL, the reserved package) are refused with a typed SessionNameError at
 * `get`/`set`, before any store sees them, on every store; a well-formed astral name
 * still round-trips on every store. Over real HTTP, a PostgreSQL-backed app answers a
 * generic 500 with the typed error in `onError`, not a raw DatabaseError.
 */
import { createServer } from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import { withSessions } from '../../src/adapters/http/index.js';
import { SessionNameError } from '../../src/index.js';
import { listen } from '../adapters/support/node.js';
import { browser, memoryManager } from '../helpers.js';
import { everyStore } from '../support/every-store.js';

const { kinds, cleanup } = await everyStore('names');
afterAll(cleanup);

const LONE_HIGH = 'cart\uD800';
const LONE_LOW = '\uDC00cart';
const REVERSED = 'a\uDC00\uD800b';
const BAD_NAMES = [LONE_HIGH, LONE_LOW, REVERSED, 'a\0b'];

describe.each(kinds)('names on $name', ({ available, open }) => {
  it.skipIf(!available)('refuses ill-formed keys at set and get with SessionNameError, writing nothing', async () => {
    const store = await open();
    const { manager } = memoryManager({ store });
    const client = browser(manager);
    await client.visit(async (s) => (await s.get('app')).set('ok', 1));
    for (const bad of BAD_NAMES) {
      await client.visit(async (s) => {
        const data = await s.get('app');
        expect(() => data.set(bad, 2)).toThrow(SessionNameError);
        expect(() => data.get(bad)).toThrow(SessionNameError);
        expect(() => data.set(bad, 2)).toThrow(TypeError);
        // blind writes follow the same rules
        expect(() => s.set('app', bad, 2)).toThrow(SessionNameError);
        expect(() => s.delete('app', bad)).toThrow(SessionNameError);
        expect(() => s.set(bad, 'ok', 2)).toThrow(SessionNameError);
      });
    }
    const { result } = await client.visit(async (s) => (await s.get('app')).toJSON());
    expect(result).toEqual({ ok: 1 });
    await store.close();
  });

  it.skipIf(!available)('refuses ill-formed and reserved package ids at get and peek', async () => {
    const store = await open();
    const { manager } = memoryManager({ store });
    const client = browser(manager);
    for (const bad of [...BAD_NAMES, 'tsession:internal', '', 'x'.repeat(257)]) {
      await client.visit(async (s) => {
        await expect(s.get(bad)).rejects.toThrow(SessionNameError);
        await expect(s.peek(bad)).rejects.toThrow(SessionNameError);
      });
    }
    await store.close();
  });

  it.skipIf(!available)('keeps well-formed astral and combining names apart and reads them back', async () => {
    const store = await open();
    const { manager } = memoryManager({ store });
    const client = browser(manager);
    const names = ['💥', '💦', 'e\u0301', 'é', '\uFFFD'];
    await client.visit(async (s) => {
      const data = await s.get('pkg.💥');
      for (const [i, name] of names.entries()) data.set(name, i);
    });
    const { result } = await client.visit(async (s) => (await s.get('pkg.💥')).toJSON());
    expect(result).toEqual(Object.fromEntries(names.map((n, i) => [n, i])));
    await store.close();
  });

  it.skipIf(!available)(
    'over HTTP: a lone surrogate from the request gets a generic 500, the typed error goes to onError',
    async () => {
      const store = await open();
      const { manager } = memoryManager({ store });
      const errors: unknown[] = [];
      const server = await listen(
        createServer(
          withSessions(
            manager,
            async (req, res) => {
              const data = await req.session.get('app');
              // decodeURIComponent turns %ED%A0%80 into U+FFFD, so take the key from a JSON-escaped parameter instead
              const key = JSON.parse(new URL(req.url ?? '/', 'http://x').searchParams.get('k') ?? '""') as string;
              data.set(key, 1);
              res.end('stored');
            },
            { onError: (error) => errors.push(error) },
          ),
        ),
      );
      try {
        const bad = await fetch(`${server.url}/?k=${encodeURIComponent('"\\ud800"')}`);
        expect(bad.status).toBe(500);
        expect(await bad.text()).toBe('Internal Server Error');
        expect(errors).toHaveLength(1);
        expect(errors[0]).toBeInstanceOf(SessionNameError);
        const good = await fetch(`${server.url}/?k=${encodeURIComponent('"\\ud83d\\udca5"')}`);
        expect(good.status).toBe(200);
      } finally {
        await server.close();
        await store.close();
      }
    },
  );
});
