/**
 * Bulk import cases every store with a fast import path must pass, through the public
 * `importSessions`: an exact round trip over several batches (createdAt kept), bad lines
 * reported by number while the good ones are imported, strict mode stopping at the first
 * bad line with the lines before it imported, existing records kept or replaced, a key
 * repeated in one file, and records after the import behaving as committed ones.
 */
import { Readable } from 'node:stream';
import { expect, it } from 'vitest';
import type { SessionStore } from '../../src/index.js';
import { entryBytes } from '../../src/stores/record.js';
import { IMPORT_BATCH_SIZE } from '../../src/transfer/batch.js';
import { exportSessions, ImportLineError, importSessions } from '../../src/transfer/index.js';

export const NOW = 1_700_000_000;

/** An export line of a session `key` with `n` entries over two packages, in the export's canonical order. */
export function line(key: string, n = 3, extra: Record<string, unknown> = {}): string {
  const made = Array.from({ length: n }, (_, i) => ({
    pkg: i % 2 ? 'app.b' : 'app.a',
    key: `k${i}`,
    value: JSON.stringify(`${key}:${i}:é`),
  }));
  const entries = [...made.filter((e) => e.pkg === 'app.a'), ...made.filter((e) => e.pkg === 'app.b')];
  return JSON.stringify({
    v: 1,
    key,
    createdAt: NOW - 86_400,
    lastAccess: NOW - 5,
    expiresAt: NOW + 3_600,
    entries,
    ...extra,
  });
}

async function exported(store: SessionStore): Promise<string[]> {
  const lines: string[] = [];
  for await (const text of exportSessions(store, NOW)) lines.push(text.trimEnd());
  return lines.sort();
}

const input = (lines: readonly string[]) => Readable.from(lines.map((l) => `${l}\n`).join(''));

export function importCases(open: () => Promise<SessionStore>): void {
  it('round trip over several batches is exact, createdAt kept, and imported records commit like created ones', async () => {
    const store = await open();
    const count = IMPORT_BATCH_SIZE * 2 + 137;
    const lines = Array.from({ length: count }, (_, i) => line(`s${String(i).padStart(5, '0')}`, i % 4));
    const report = await importSessions(store, input(lines), { now: NOW, clientKeys: 'thirdParty' });
    expect(report).toEqual({ imported: count, skipped: 0, problems: [] });
    expect(await exported(store)).toEqual([...lines].sort());
    const one = await store.load('s00003', NOW);
    expect(one?.createdAt).toBe(NOW - 86_400);
    expect(one?.entries.map((e) => e.version)).toEqual([1, 1, 1]);
    // the stored version and size are those of a creating commit: a versioned write of k0 at 1 passes, at 0 fails
    await store.commit(
      's00003',
      { create: false, writes: [{ pkg: 'app.a', key: 'k0', value: '1', expectVersion: 1 }] },
      NOW,
    );
    await expect(
      store.commit(
        's00003',
        { create: false, writes: [{ pkg: 'app.a', key: 'k1', value: '1', expectVersion: 0 }] },
        NOW,
      ),
    ).resolves.toBeDefined();
    // the stored size is exact: a cap of exactly the size after a write passes, one byte less fails
    const bytes = (await store.load('s00006', NOW))!.entries.reduce((n, e) => n + entryBytes(e.pkg, e.key, e.value), 0);
    const grow = { pkg: 'app.a', key: 'new', value: '12' };
    const limited = (maxBytes: number) => ({ maxBytes, maxPackages: 10, maxKeysPerPackage: 10 });
    const after = bytes + entryBytes(grow.pkg, grow.key, grow.value);
    await expect(
      store.commit('s00006', { create: false, caps: limited(after - 1), writes: [grow] }, NOW),
    ).rejects.toMatchObject({ name: 'SessionTooLargeError' });
    await store.commit('s00006', { create: false, caps: limited(after), writes: [grow] }, NOW);
    const caps = { maxBytes: 1_000, maxPackages: 2, maxKeysPerPackage: 10 };
    await expect(
      store.commit('s00003', { create: false, caps, writes: [{ pkg: 'app.c', key: 'x', value: '1' }] }, NOW),
    ).rejects.toMatchObject({ name: 'SessionTooLargeError' });
  });

  it('reports bad lines by number and imports every good one; strict stops at the first bad line', async () => {
    const lines = [line('a'), '{not json', line('b'), JSON.stringify({ v: 1, key: '' }), line('c'), line('d')];
    const store = await open();
    const report = await importSessions(store, input(lines), { now: NOW, clientKeys: 'thirdParty' });
    expect(report.imported).toBe(4);
    expect(report.problems.map((p) => p.line)).toEqual([2, 4]);
    const strict = await open();
    const failure = await importSessions(strict, input(lines), {
      now: NOW,
      clientKeys: 'thirdParty',
      strict: true,
    }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ImportLineError);
    expect((failure as ImportLineError).line).toBe(2);
    expect((await exported(strict)).map((l) => JSON.parse(l).key)).toEqual(['a']);
  });

  it('keeps a live record (skipped), replaces an expired one, and with replace overwrites; a repeated key counts once', async () => {
    const store = await open();
    await importSessions(store, input([line('live', 1), line('dead', 1, { expiresAt: NOW + 10 })]), {
      now: NOW,
      clientKeys: 'thirdParty',
    });
    const later = NOW + 100; // 'dead' expired, 'live' not
    const next = [
      line('live', 2),
      line('dead', 2),
      line('new', 2),
      line('new', 3),
      line('gone', 1, { expiresAt: NOW + 50 }),
    ];
    const report = await importSessions(store, input(next), { now: later, clientKeys: 'thirdParty' });
    // 'live' kept, the second 'new' and 'gone' (expired at `later`) skipped
    expect(report).toMatchObject({ imported: 2, skipped: 3, problems: [] });
    expect((await store.load('live', later))?.entries).toHaveLength(1);
    expect((await store.load('dead', later))?.entries).toHaveLength(2);
    expect((await store.load('new', later))?.entries).toHaveLength(2); // the first line of a key wins
    const replaced = await importSessions(store, input([line('live', 3), line('new', 4)]), {
      now: later,
      clientKeys: 'thirdParty',
      replace: true,
    });
    expect(replaced).toMatchObject({ imported: 2, skipped: 0 });
    expect((await store.load('live', later))?.entries).toHaveLength(3);
    expect((await store.load('new', later))?.entries).toHaveLength(4);
  });
}
