/**
 * Evidence for the security review's findings (issue 11 §2) that the `security` branch
 * closed: 3 (ill-formed names), 5 (imports), 7 (admin handler), 8 (error bodies),
 * 9 (ids from links) and 10 (same-name cookies). Each property runs random attacks
 * through the public API, on every store it concerns, and records one row of the
 * findings table of docs/reliability.md (`recordFinding`).
 */
import { randomBytes } from 'node:crypto';
import { createServer as createHttpServer } from 'node:http';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { withSessions } from '../../src/adapters/http/index.js';
import { withSessions as withWebSessions } from '../../src/adapters/web/index.js';
import { createAdminHandler } from '../../src/admin/index.js';
import {
  CookieClientIdManager,
  SessionDataContainer,
  SessionManager,
  SessionNameError,
  type SessionStore,
} from '../../src/index.js';
import { MemoryStore } from '../../src/stores/memory/index.js';
import { PostgresStore } from '../../src/stores/postgres/index.js';
import { RedisStore } from '../../src/stores/redis/index.js';
import { importSessions } from '../../src/transfer/index.js';
import { listen } from '../adapters/support/node.js';
import { browser, deadPort, manualClock, memoryManager, OTHER_SECRET, request, SECRET } from '../helpers.js';
import { everyStore } from '../support/every-store.js';
import { bump, fuzzRuns, recordFinding, tally } from './record.js';

const hmacs = vi.hoisted(() => ({ count: 0 }));
vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:crypto')>();
  return {
    ...actual,
    createHmac: (...args: Parameters<typeof actual.createHmac>) => {
      hmacs.count++;
      return actual.createHmac(...args);
    },
  };
});

const RUNS = fuzzRuns(300, 1);
const NOW = 1_000_000;
const { kinds, cleanup } = await everyStore('findings');
afterAll(cleanup);
const available = kinds.filter((k) => k.available);
const clientKey = (name: string) => name.padEnd(24, '_').slice(0, 24);

/** Names built from pieces that include lone surrogates, NUL, astral and combining characters. */
const name = fc
  .array(fc.constantFrom('a', 'Z', 'é', 'e\u0301', '💥', '\uD800', '\uDC00', '\uDBFF', '\0', '\uFFFD', '.', ' '), {
    minLength: 1,
    maxLength: 5,
  })
  .map((parts) => parts.join(''));
const acceptable = (text: string) =>
  !text.includes('\0') && (text as string & { isWellFormed(): boolean }).isWellFormed();

describe('issue 11 findings closed on the security branch', () => {
  it(`finding 3: ${RUNS} sets of random names per store: ill-formed names refused, the rest read back apart`, async () => {
    const outcomes = new Map<string, number>();
    for (const kind of available) {
      const store = await kind.open();
      const { manager } = memoryManager({ store });
      await fc.assert(
        fc.asyncProperty(fc.uniqueArray(name, { minLength: 1, maxLength: 6 }), name, async (keys, pkgName) => {
          const client = browser(manager);
          const pkg = `fz.${pkgName}`;
          const expected: Record<string, number> = {};
          await client.visit(async (s) => {
            if (!acceptable(pkg)) {
              await expect(s.get(pkg)).rejects.toBeInstanceOf(SessionNameError);
              bump(outcomes, 'package id refused');
              return;
            }
            const data = await s.get(pkg);
            for (const [i, key] of keys.entries()) {
              if (acceptable(key)) {
                data.set(key, i);
                expected[key] = i;
                bump(outcomes, 'key stored');
              } else {
                expect(() => data.set(key, i)).toThrow(SessionNameError);
                bump(outcomes, 'key refused');
              }
            }
          });
          if (!acceptable(pkg) || Object.keys(expected).length === 0) return;
          const { result } = await client.visit(async (s) => (await s.get(pkg)).toJSON());
          expect(result).toEqual(expected);
        }),
        { numRuns: RUNS },
      );
      await store.close();
    }
    recordFinding('branch', {
      finding: 3,
      tried: 'random package ids and keys of lone surrogates, NUL, astral, combining characters and U+FFFD',
      cases: `${available.map((k) => k.name).join(', ')} × ${RUNS} sessions`,
      outcome: `${tally(outcomes)}; every stored key read back exactly, none merged; no raw store error`,
      tests: 'test/session/names.test.ts, test/reliability/security-findings.test.ts',
    });
  });

  it(`finding 5: random import files on every store: bad lines reported by number, good lines kept`, async () => {
    const badLine = fc.oneof(
      name
        .filter((n) => !acceptable(n))
        .map((n) => ({ what: 'ill-formed package id', entries: [{ pkg: n, key: 'k' }] })),
      name.filter((n) => !acceptable(n)).map((n) => ({ what: 'ill-formed key', entries: [{ pkg: 'p', key: n }] })),
      fc.constant({ what: 'reserved package', entries: [{ pkg: 'tsession:internal', key: 'binding' }] }),
      fc.constant({
        what: 'repeated entry',
        entries: [
          { pkg: 'p', key: 'k' },
          { pkg: 'p', key: 'k' },
        ],
      }),
    );
    const file = fc.array(fc.oneof(fc.constant(undefined), badLine), { minLength: 1, maxLength: 12 });
    const kindsSeen = new Map<string, number>();
    let lines = 0;
    const runs = Math.max(1, Math.round(RUNS / 6));
    for (const kind of available) {
      const store = await kind.open();
      let run = 0;
      await fc.assert(
        fc.asyncProperty(file, async (plan) => {
          run++;
          const text = plan.map((bad, i) => {
            const key = clientKey(`r${run}-${i}`);
            const entries = (bad?.entries ?? [{ pkg: 'p', key: `k${i}` }]).map((e) => ({ ...e, value: String(i) }));
            return JSON.stringify({ v: 1, key, createdAt: NOW, lastAccess: NOW, expiresAt: NOW + 60, entries });
          });
          lines += plan.length;
          const report = await importSessions(store, Readable.from([text.join('\n')]), { now: NOW });
          expect(report.problems.map((p) => p.line)).toEqual(plan.flatMap((bad, i) => (bad ? [i + 1] : [])));
          for (const [i, bad] of plan.entries()) {
            bump(kindsSeen, bad?.what ?? 'good');
            const stored = await store.load(clientKey(`r${run}-${i}`), NOW);
            if (bad) expect(stored).toBeUndefined();
            else expect(stored?.entries.map((e) => [e.pkg, e.key, e.value])).toEqual([['p', `k${i}`, String(i)]]);
          }
        }),
        { numRuns: runs },
      );
      await store.close();
    }
    recordFinding('branch', {
      finding: 5,
      tried: 'import files mixing good lines with ill-formed names, the reserved package and repeated entries',
      cases: `${available.map((k) => k.name).join(', ')} × ${runs} files, ${lines} lines`,
      outcome: `${tally(kindsSeen)}; every bad line reported by its number, every good line imported, none aborted`,
      tests: 'test/transfer/import-validation.test.ts, test/reliability/fuzz-import.test.ts',
    });
  });

  it(`finding 7: ${RUNS} hostile admin requests: the handler always answers, never throws`, async () => {
    const { manager, store } = memoryManager({ clock: () => NOW });
    await store.commit(
      clientKey('far-future'),
      { create: true, touch: { lastAccess: 1e13, expiresAt: null }, writes: [{ pkg: 'p', key: 'k', value: '1' }] },
      NOW,
    );
    const admin = createAdminHandler(manager, { basePath: '/admin/', authorize: () => true });
    const page = await admin(new Request('http://a.test/admin/'));
    const cookie = (page.headers.get('set-cookie') as string).split(';')[0] as string;
    const token = /name="csrf" value="([^"]+)"/.exec(await page.text())?.[1] as string;
    const statuses = new Map<string, number>();
    const segment = fc.constantFrom('%', '%2', '%zz', '%E0%A4%A', '%ff', '%C0%AF', '%41', 'a', 'session/', 'export');
    const forgedToken = fc
      .array(fc.constantFrom('a', 'é', '💥', '\0', '\uD800', 'Z'), { minLength: token.length, maxLength: token.length })
      .map((parts) => parts.join('').slice(0, token.length));
    await fc.assert(
      fc.asyncProperty(fc.array(segment, { maxLength: 5 }), forgedToken, async (parts, forged) => {
        const get = await admin(new Request(`http://a.test/admin/${parts.join('')}`));
        expect([200, 400, 404]).toContain(get.status);
        bump(statuses, `GET ${get.status}`);
        const body = new URLSearchParams({ csrf: forged });
        const post = await admin(
          new Request(`http://a.test/admin/session/${clientKey('far-future')}/delete`, {
            method: 'POST',
            body,
            headers: { cookie, origin: 'http://a.test' },
          }),
        );
        expect(post.status).toBe(forged === token ? 303 : 403);
        bump(statuses, `POST ${post.status}`);
      }),
      { numRuns: RUNS },
    );
    const list = await admin(new Request('http://a.test/admin/'));
    expect(list.status).toBe(200);
    recordFinding('branch', {
      finding: 7,
      tried:
        'admin paths of malformed % escapes, CSRF tokens of equal length in other byte lengths, a record at 1e13 s',
      cases: `${RUNS} GETs and ${RUNS} POSTs`,
      outcome: `${tally(statuses)}; the list page with the out-of-range record answered 200; no exception`,
      tests: 'test/admin/admin.test.ts, test/reliability/security-findings.test.ts',
    });
  });

  it('finding 8: requests to apps over a stopped PostgreSQL and a stopped Redis: bodies name no host or port', async () => {
    const port = await deadPort();
    const stores: [string, SessionStore][] = [
      [
        'PostgreSQL',
        new PostgresStore({ connectionString: `postgres://postgres@127.0.0.1:${port}/test`, schema: 'x' }),
      ],
      ['Redis', new RedisStore({ url: `redis://127.0.0.1:${port}`, commandTimeoutSeconds: 1 })],
    ];
    const statuses = new Map<string, number>();
    let requests = 0;
    for (const [label, store] of stores) {
      const manager = new SessionManager({
        clientIds: new CookieClientIdManager({ secret: SECRET }),
        container: new SessionDataContainer({ store }),
      });
      const count = async (s: { get: (p: string) => Promise<{ set: (k: string, v: number) => unknown }> }) =>
        (await s.get('c')).set('n', 1);
      const node = await listen(
        createServerFor(manager, async (req, res) => {
          await count(req.session);
          res.end('ok');
        }),
      );
      const web = withWebSessions(
        manager,
        async (_req, session) => {
          await count(session);
          return new Response('ok');
        },
        { onError: () => {} },
      );
      for (let i = 0; i < 10; i++) {
        for (const answer of [await fetch(`${node.url}/`), await web(new Request('http://w.test/'))]) {
          requests++;
          const text = await answer.text();
          bump(statuses, `${label} ${answer.status}`);
          expect(answer.status).toBe(503);
          expect(text).toBe('Service Unavailable');
          expect(text).not.toContain(String(port));
        }
      }
      await node.close();
      await manager.close();
    }
    recordFinding('branch', {
      finding: 8,
      tried: 'writes through tsession/http and tsession/web to apps whose PostgreSQL or Redis is stopped',
      cases: `${requests} requests (every adapter once more in test/adapters/suite.ts)`,
      outcome: `${tally(statuses)}; every body exactly "Service Unavailable"; host and port only in the error's cause`,
      tests: 'test/adapters/suite.ts (all six adapters), test/reliability/security-findings.test.ts',
    });
  });

  it(`finding 9: ${RUNS} link visits with an attacker's id: none becomes a cookie`, async () => {
    const outcomes = new Map<string, number>();
    const orders: (readonly ('cookie' | 'url' | 'form')[])[] = [
      ['cookie', 'url'],
      ['url', 'cookie'],
      ['cookie', 'form'],
      ['cookie', 'url', 'form'],
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...orders),
        fc.integer({ min: 0, max: 5_000 }),
        fc.boolean(),
        fc.boolean(),
        async (conveyances, later, write, oldSecret) => {
          const clock = manualClock(NOW);
          const store = new MemoryStore({ sweepIntervalSeconds: 0 });
          const make = (secret: string | string[]) =>
            memoryManager({ clock, store, cookie: { secret, lifetime: 86_400, conveyances } }).manager;
          const attacker = make(oldSecret ? OTHER_SECRET : SECRET).open(request({ method: 'POST' }));
          (await attacker.get('p')).set('n', 1);
          await attacker.commit();
          const id = attacker.clientId;
          clock.advance(later);
          const viaUrl = conveyances.includes('url');
          const victim = make([SECRET, OTHER_SECRET]).open(
            request({
              method: 'POST',
              ...(viaUrl ? { url: `/?tsession=${encodeURIComponent(id)}` } : { form: { tsession: id } }),
            }),
          );
          const data = await victim.get('p');
          if (write) data.set('n', 2);
          await victim.commit();
          const cookies = victim.responseHeaders.filter(([n, v]) => n === 'Set-Cookie' && v.includes(id.slice(0, 24)));
          expect(cookies).toEqual([]);
          bump(outcomes, victim.responseHeaders.length === 0 ? 'no Set-Cookie' : 'a fresh id only');
        },
      ),
      { numRuns: RUNS },
    );
    recordFinding('branch', {
      finding: 9,
      tried:
        "a victim's first request carrying the attacker's id by url or form, after 0 to 5,000 s, reading or writing, current or old secret",
      cases: `${RUNS} visits, 4 conveyance orders, lifetime 1 day`,
      outcome: `${tally(outcomes)}; 0 Set-Cookies carrying the link's id`,
      tests: 'test/client-id/fixation.test.ts (over HTTP), test/reliability/security-findings.test.ts',
    });
  });

  it(`finding 10: ${RUNS} requests with up to 300 same-name cookies: signatures verified stay bounded`, async () => {
    let most = 0;
    let cookiesMost = 0;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 1, max: 3 }), async (n, secrets) => {
        const ids = new CookieClientIdManager({
          secret: [SECRET, OTHER_SECRET, `third-${SECRET}`].slice(0, secrets),
          conveyances: ['cookie', 'url', 'form'],
        });
        const forged = () => `${randomBytes(18).toString('base64url')}.${randomBytes(32).toString('base64url')}`;
        const cookie = Array.from({ length: n }, () => `tsession=${forged()}`).join('; ');
        hmacs.count = 0;
        ids.read(request({ cookie, url: `/?tsession=${forged()}`, form: { tsession: forged() } }));
        expect(hmacs.count).toBe((Math.min(n, 4) + 2) * secrets);
        if (hmacs.count > most) [most, cookiesMost] = [hmacs.count, n];
      }),
      { numRuns: RUNS },
    );
    recordFinding('branch', {
      finding: 10,
      tried: '0 to 300 forged same-name cookies plus a forged url id and form id, under 1 to 3 secrets',
      cases: `${RUNS} requests`,
      outcome: `HMACs per request exactly (min(cookies, 4) + 2) × secrets; at most ${most} (with ${cookiesMost} cookies)`,
      tests: 'test/client-id/same-name-cookies.test.ts, test/reliability/security-findings.test.ts',
    });
  });
});

function createServerFor(manager: SessionManager, handler: Parameters<typeof withSessions>[1]) {
  return createHttpServer(withSessions(manager, handler, { onError: () => {} }));
}
