/**
 * Evidence for the findings of issue 11 §2 that the commit rules closed: 1 (caps beaten
 * by concurrency), 2 (bytes counted as UTF-16 units), 4 (client binding) and 6 (import
 * dropped createdAt; export order differed per store). Each runs through the public API
 * on every store and records one row of the findings table of docs/reliability.md.
 */
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CookieClientIdManager,
  SessionDataContainer,
  SessionManager,
  type SessionStore,
  SessionTooLargeError,
  userAgentClass,
} from '../../src/index.js';
import { exportSessions, importSessions } from '../../src/transfer/index.js';
import { browser, manualClock, memoryManager, SECRET } from '../helpers.js';
import { everyStore } from '../support/every-store.js';
import { bump, recordFinding, tally } from './record.js';

const { kinds, cleanup } = await everyStore('rulesfindings');
afterAll(cleanup);
const available = kinds.filter((k) => k.available);
const names = available.map((k) => k.name).join(', ');
const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0';
const CURL = 'curl/8.5.0';
const as = (userAgent: string) => ({ headers: { 'user-agent': userAgent } });

async function withStore<T>(open: () => Promise<SessionStore>, run: (store: SessionStore) => Promise<T>): Promise<T> {
  const store = await open();
  try {
    return await run(store);
  } finally {
    await store.close();
  }
}

describe('issue 11 findings closed by the commit rules', () => {
  it('finding 1: 20 concurrent commits each adding a package stay within the caps of the stored record', async () => {
    const outcomes = new Map<string, number>();
    for (const kind of available) {
      await withStore(kind.open, async (store) => {
        const { manager } = memoryManager({ store, container: { maxSessionBytes: 10_000, maxPackages: 3 } });
        const client = browser(manager);
        await client.visit(async (s) => (await s.get('cap.p0')).set('v', 'x'.repeat(100)));
        // Every request loads before any commits: each alone is within the caps.
        const sessions = Array.from({ length: 20 }, () => client.open());
        for (const [i, s] of sessions.entries()) (await s.get(`cap.p${i + 1}`)).set('v', 'y'.repeat(3_000));
        const results = await Promise.allSettled(sessions.map((s) => s.commit()));
        for (const r of results) {
          bump(outcomes, r.status === 'fulfilled' ? 'committed' : (r.reason as Error).constructor.name);
          if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(SessionTooLargeError);
        }
        const record = await store.load(client.cookie?.split('=')[1]?.split('.')[0] as string, Date.now() / 1000);
        const packages = new Set(record?.entries.map((e) => e.pkg));
        const bytes = record?.entries.reduce((a, e) => a + Buffer.byteLength(e.pkg + e.key + e.value), 0) ?? 0;
        expect(packages.size).toBeLessThanOrEqual(3);
        expect(bytes).toBeLessThanOrEqual(10_000);
        // The session stays usable: a login's regenerate still works.
        await client.visit((s) => s.regenerate());
      });
    }
    recordFinding('rules', {
      finding: 1,
      tried:
        '20 concurrent commits, each loaded before any committed, each adding a 3 KB package to a session capped at 10,000 bytes and 3 packages',
      cases: `${names} × 20 commits`,
      outcome: `${tally(outcomes)}; the stored record within both caps on every store; regenerate afterwards works`,
      tests: 'src/conformance/cap-cases.ts, src/conformance/http-cases.ts, test/reliability/rules-findings.test.ts',
    });
  });

  it('finding 2: the byte cap counts UTF-8 bytes of package ids, keys and values', async () => {
    const outcomes = new Map<string, number>();
    for (const kind of available) {
      await withStore(kind.open, async (store) => {
        const { manager } = memoryManager({ store, container: { maxSessionBytes: 300 } });
        const client = browser(manager);
        // 100 CJK characters: 100 UTF-16 units, 300 UTF-8 bytes, plus the ids' bytes.
        const attempt = client.visit(async (s) => (await s.get('cjk')).set('v', '字'.repeat(100)));
        await expect(attempt).rejects.toBeInstanceOf(SessionTooLargeError);
        bump(outcomes, 'SessionTooLargeError');
        await client.visit(async (s) => (await s.get('cjk')).set('v', '字'.repeat(90)));
        bump(outcomes, 'within the cap stored');
      });
    }
    recordFinding('rules', {
      finding: 2,
      tried: 'a value of 100 CJK characters (100 UTF-16 units, 300 UTF-8 bytes) under a 300-byte cap, then 90',
      cases: `${names} × 2 commits`,
      outcome: `${tally(outcomes)}: UTF-8 bytes of package id, key and value are counted`,
      tests: 'src/conformance/cap-cases.ts, test/container/container.test.ts, test/reliability/rules-findings.test.ts',
    });
  });

  it('finding 4: another kind of client can neither read, write nor end a bound session; unbound ones get bound', async () => {
    const outcomes = new Map<string, number>();
    for (const kind of available) {
      await withStore(kind.open, async (store) => {
        const clock = manualClock();
        const managerOf = (fingerprint?: typeof userAgentClass) =>
          new SessionManager({
            clientIds: new CookieClientIdManager({ secret: SECRET, clock }),
            container: new SessionDataContainer({ store, clock }),
            ...(fingerprint && { fingerprint }),
          });
        const bound = { manager: managerOf(userAgentClass) };
        const victim = browser(bound.manager);
        await victim.visit(async (s) => (await s.get('app')).set('user', 'alice'), as(FIREFOX));
        const thief = browser(bound.manager);
        thief.cookie = victim.cookie;
        await thief.visit(async (s) => {
          expect((await s.get('app')).get('user')).toBeUndefined();
          s.invalidate();
        }, as(CURL));
        await thief.visit((s) => s.regenerate({ keepData: false }), as(CURL));
        await victim.visit(async (s) => {
          expect((await s.get('app')).get('user')).toBe('alice');
        }, as(FIREFOX));
        bump(outcomes, 'bound session untouched by another client');
        // A record made before binding was turned on is bound by its first client.
        const unbound = browser(managerOf());
        await unbound.visit(async (s) => (await s.get('app')).set('user', 'bob'), as(FIREFOX));
        const later = browser(bound.manager);
        later.cookie = unbound.cookie;
        await later.visit(async (s) => expect((await s.get('app')).get('user')).toBe('bob'), as(FIREFOX));
        const other = browser(bound.manager);
        other.cookie = unbound.cookie;
        await other.visit(async (s) => expect((await s.get('app')).get('user')).toBeUndefined(), as(CURL));
        bump(outcomes, 'unbound record bound on first use');
      });
    }
    recordFinding('rules', {
      finding: 4,
      tried:
        'a stolen cookie used by another client class to read, invalidate and regenerate({ keepData: false }); a record made before binding used by two classes',
      cases: `${names} × 2 scenarios`,
      outcome: `${tally(outcomes)}`,
      tests: 'src/conformance/http-cases.ts, test/reliability/rules-findings.test.ts',
    });
  });

  it('finding 6: export -> import into every other store -> export is the same text, createdAt kept', async () => {
    const outcomes = new Map<string, number>();
    const source = await available[0]?.open();
    if (!source) return;
    const clock = manualClock();
    const { manager } = memoryManager({ store: source, clock });
    for (let i = 0; i < 5; i++) {
      await browser(manager).visit(async (s) => {
        (await s.get('z.last')).set('b', i);
        (await s.get('a.first')).set('k', { n: i, at: new Date(0) });
        (await s.get('a.first')).set('a', 'x');
      });
      clock.advance(7);
    }
    const exportText = async (store: SessionStore) => {
      const lines: string[] = [];
      for await (const line of exportSessions(store, clock())) lines.push(line);
      return lines.sort().join('');
    };
    const original = await exportText(source);
    for (const kind of available) {
      await withStore(kind.open, async (target) => {
        const report = await importSessions(target, Readable.from([original]), { now: clock() });
        expect(report.problems).toEqual([]);
        expect(await exportText(target)).toBe(original);
        bump(outcomes, `identical through ${kind.name}`);
      });
    }
    await source.close();
    recordFinding('rules', {
      finding: 6,
      tried: `5 sessions created 7 s apart with entries written out of order, exported from ${available[0]?.name} and imported into each store`,
      cases: `${names} × 5 sessions`,
      outcome: `${tally(outcomes)}: createdAt kept, entries in one canonical order`,
      tests: 'test/transfer/cross-store.test.ts, test/reliability/rules-findings.test.ts',
    });
  });
});
