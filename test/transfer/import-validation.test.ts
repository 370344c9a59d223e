/**
 * Issue 11 finding 5: an import holds every line to the rules a Session holds its
 * writes to, reports a bad line by its number, and no bad line aborts a non-strict
 * import, on every store (before, on PostgreSQL one NUL aborted the whole import with a
 * raw DatabaseError and the good lines after it were lost; on memory, SQLite and Redis
 * two distinct entries collapsed into one).
 */
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CookieClientIdManager,
  SessionDataContainer,
  SessionManager,
  type SessionStore,
  StoreUnavailableError,
} from '../../src/index.js';
import { userAgentClass } from '../../src/session/fingerprint.js';
import { MemoryStore } from '../../src/stores/memory/index.js';
import { exportSessions, ImportLineError, importSessions } from '../../src/transfer/index.js';
import { request, SECRET } from '../helpers.js';
import { everyStore } from '../support/every-store.js';

const NOW = 1_000_000;
const { kinds, cleanup } = await everyStore('import');
afterAll(cleanup);

const clientKey = (name: string) => name.padEnd(24, '_');
type Entry = { pkg: string; key: string; value: string };
const line = (key: string, entries: Entry[], extra: Record<string, unknown> = {}) =>
  JSON.stringify({ v: 1, key, createdAt: NOW - 100, lastAccess: NOW - 10, expiresAt: NOW + 3600, entries, ...extra });
const entry = (pkg: string, key: string, value = '1'): Entry => ({ pkg, key, value });

/** Each bad line, what it breaks, in one file interleaved with good lines. */
const BAD: [string, string][] = [
  ['NUL in a package id', line(clientKey('bad-1'), [entry('app\0cart', 'a')])],
  ['NUL in a key', line(clientKey('bad-2'), [entry('app', 'a\0b'), entry('app', 'a')])],
  ['lone surrogate in a package id', line(clientKey('bad-3'), [entry('app\uD800', 'a')])],
  ['lone surrogate in a key', line(clientKey('bad-4'), [entry('app', 'x\uDC00')])],
  ['the reserved package', line(clientKey('bad-5'), [entry('tsession:internal', 'binding', '"chrome/linux"')])],
  ['a repeated entry', line(clientKey('bad-6'), [entry('app', 'a', '1'), entry('app', 'a', '2')])],
  ['a client key of another form', line('not-a-signed-key', [entry('app', 'a')])],
  ['a time past the largest Date', line(clientKey('bad-8'), [entry('app', 'a')], { lastAccess: 1e13 })],
  ['a negative time', line(clientKey('bad-9'), [entry('app', 'a')], { createdAt: -5 })],
];

const good = (i: number) => line(clientKey(`good-${i}`), [entry('app', 'n', String(i)), entry('app.💥', 'é', '"ok"')]);

describe.each(kinds)('import validation on $name', ({ available, open }) => {
  it.skipIf(!available)('reports every bad line by number and imports every good line after it', async () => {
    const store = await open();
    const lines = BAD.flatMap(([, bad], i) => [good(i), bad]);
    lines.push(good(BAD.length));
    const report = await importSessions(store, Readable.from([lines.join('\n')]), { now: NOW });
    expect(report.problems.map((p) => p.line)).toEqual(BAD.map((_, i) => 2 * i + 2));
    expect(report.imported).toBe(BAD.length + 1);
    for (let i = 0; i <= BAD.length; i++) {
      const stored = await store.load(clientKey(`good-${i}`), NOW);
      expect(stored?.entries.map(({ pkg, key, value }) => ({ pkg, key, value }))).toEqual([
        entry('app', 'n', String(i)),
        entry('app.💥', 'é', '"ok"'),
      ]);
    }
    for (let i = 1; i <= BAD.length; i++) expect(await store.load(clientKey(`bad-${i}`), NOW)).toBeUndefined();
    await store.close();
  });

  it.skipIf(!available)('under strict, stops at the first bad line with its number', async () => {
    const store = await open();
    const input = [good(0), BAD[0]?.[1], good(1)].join('\n');
    await expect(importSessions(store, Readable.from([input]), { now: NOW, strict: true })).rejects.toMatchObject({
      name: 'ImportLineError',
      line: 2,
    });
    expect(await store.load(clientKey('good-1'), NOW)).toBeUndefined();
    await store.close();
  });
});

describe('import validation: caps, line length, options', () => {
  it('holds each line to the container caps as a request would be', async () => {
    const store = new MemoryStore({ sweepIntervalSeconds: 0 });
    const container = new SessionDataContainer({ store, maxSessionBytes: 100, maxPackages: 2, maxKeysPerPackage: 3 });
    const input = [
      line(clientKey('bytes'), [entry('app', 'big', JSON.stringify('x'.repeat(100)))]),
      line(clientKey('packages'), [entry('a', 'k'), entry('b', 'k'), entry('c', 'k')]),
      line(clientKey('keys'), [entry('a', '1'), entry('a', '2'), entry('a', '3'), entry('a', '4')]),
      line(clientKey('fits'), [entry('a', '1'), entry('a', '2'), entry('a', '3'), entry('b', 'k')]),
    ].join('\n');
    const report = await importSessions(store, Readable.from([input]), { now: NOW, container });
    expect(report.problems.map((p) => [p.line, p.message.match(/holds \d+ ([a-z ]+)/)?.[1]])).toEqual([
      [1, 'bytes'],
      [2, 'packages'],
      [3, 'keys in package a'],
    ]);
    expect(report.imported).toBe(1);
  });

  it('refuses a line over the length cap before parsing it', async () => {
    const store = new MemoryStore({ sweepIntervalSeconds: 0 });
    const long = line(clientKey('long'), [entry('app', 'a', JSON.stringify('y'.repeat(500)))]);
    const report = await importSessions(store, Readable.from([`${long}\n${good(0)}\n`]), {
      now: NOW,
      maxLineLength: 400,
    });
    expect(report.problems).toEqual([{ line: 1, message: expect.stringContaining('over the limit of 400') }]);
    expect(report.imported).toBe(1);
  });

  it("imports third parties' ids with clientKeys: 'thirdParty', and still refuses ids with spaces", async () => {
    const store = new MemoryStore({ sweepIntervalSeconds: 0 });
    const input = [line('portal-id-42', [entry('app', 'a')]), line('has space', [entry('app', 'a')])].join('\n');
    const report = await importSessions(store, Readable.from([input]), { now: NOW, clientKeys: 'thirdParty' });
    expect(report.imported).toBe(1);
    expect(report.problems.map((p) => p.line)).toEqual([2]);
  });

  it('round-trips a bound session with allowInternal, and refuses its binding without it', async () => {
    const source = new MemoryStore({ sweepIntervalSeconds: 0 });
    const manager = new SessionManager({
      clientIds: new CookieClientIdManager({ secret: SECRET }),
      container: new SessionDataContainer({ store: source, clock: () => NOW }),
      fingerprint: userAgentClass,
    });
    const session = manager.open(request({ headers: { 'user-agent': 'curl/8' } }));
    (await session.get('app')).set('a', 1);
    await session.commit();
    let text = '';
    for await (const l of exportSessions(source, NOW)) text += l;
    const refused = await importSessions(new MemoryStore({ sweepIntervalSeconds: 0 }), Readable.from([text]), {
      now: NOW,
    });
    expect(refused.problems).toEqual([{ line: 1, message: expect.stringContaining('reserved') }]);
    const target = new MemoryStore({ sweepIntervalSeconds: 0 });
    const kept = await importSessions(target, Readable.from([text]), { now: NOW, allowInternal: true });
    expect(kept.imported).toBe(1);
    const key = session.clientId.split('.')[0] as string;
    expect((await target.load(key, NOW))?.entries.map((e) => e.pkg).sort()).toEqual(['app', 'tsession:internal']);
  });

  it('a line the store refuses is reported and the import goes on; a store that is down stops it', async () => {
    const inner = new MemoryStore({ sweepIntervalSeconds: 0 });
    let down = false;
    const store: SessionStore = Object.assign(Object.create(inner) as SessionStore, {
      commit: (key: string, ...rest: Parameters<SessionStore['commit']> extends [string, ...infer R] ? R : never) => {
        if (down) return Promise.reject(new StoreUnavailableError('down'));
        if (key === clientKey('good-1')) return Promise.reject(new Error('value too long for type character varying'));
        return inner.commit(key, ...rest);
      },
      destroy: (key: string) => inner.destroy(key),
    });
    const report = await importSessions(store, Readable.from([[good(0), good(1), good(2)].join('\n')]), { now: NOW });
    expect(report.imported).toBe(2);
    expect(report.problems).toEqual([{ line: 2, message: expect.stringContaining('the store refused the session') }]);
    down = true;
    await expect(importSessions(store, Readable.from([good(3)]), { now: NOW })).rejects.toThrow(StoreUnavailableError);
    await expect(importSessions(store, Readable.from([good(3)]), { now: NOW, strict: true })).rejects.not.toThrow(
      ImportLineError,
    );
  });
});
