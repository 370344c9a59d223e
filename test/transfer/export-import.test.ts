import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { jsonCodec, type SessionStore } from '../../src/index.js';
import { MemoryStore } from '../../src/stores/memory/index.js';
import { exportSessions, ImportLineError, importSessions } from '../../src/transfer/index.js';

const NOW = 10_000;
/** A store key of the form signed ids have (24 base64url characters), named for reading. */
const key = (name: string) => name.padEnd(24, '_');

async function fill(store: SessionStore, key: string, values: Record<string, unknown>, expiresAt: number | null) {
  await store.commit(
    key,
    {
      create: true,
      touch: { lastAccess: NOW - 5, expiresAt },
      writes: Object.entries(values).map(([k, v]) => ({
        pkg: 'pkg.a',
        key: k,
        value: jsonCodec.encode(v, ['pkg.a', k]),
      })),
    },
    NOW - 5,
  );
}

async function collect(store: SessionStore): Promise<string> {
  let text = '';
  for await (const line of exportSessions(store, NOW)) text += line;
  return text;
}

function sorted(store: SessionStore) {
  return (async () => {
    const out = [];
    for await (const s of store.scan(NOW)) {
      out.push({
        ...s,
        createdAt: 0,
        entries: [...s.entries]
          .map(({ pkg, key, value }) => ({ pkg, key, value }))
          .sort((a, b) => a.key.localeCompare(b.key)),
      });
    }
    return out.sort((a, b) => a.key.localeCompare(b.key));
  })();
}

describe('SPEC 42: export and import as JSON Lines', () => {
  it('round-trips live sessions exactly into another store, and leaves expired ones out', async () => {
    const source = new MemoryStore({ sweepIntervalSeconds: 0 });
    const values = {
      date: new Date(5),
      map: new Map([[1, new Set([2n])]]),
      neg: -0,
      nan: Number.NaN,
      undef: undefined,
      text: 'é\n"',
    };
    await fill(source, key('live-one'), values, NOW + 100);
    await fill(source, key('live-forever'), { a: 1 }, null);
    await fill(source, key('expired'), { a: 1 }, NOW - 1);
    const text = await collect(source);
    expect(text.trim().split('\n')).toHaveLength(2);
    expect(text).not.toContain(key('expired'));

    const target = new MemoryStore({ sweepIntervalSeconds: 0 });
    const report = await importSessions(target, Readable.from([text]), { now: NOW });
    expect(report).toEqual({ imported: 2, skipped: 0, problems: [] });
    expect(await sorted(target)).toEqual(await sorted(source));
    const loaded = await target.load(key('live-one'), NOW);
    const decoded = Object.fromEntries(loaded!.entries.map((e) => [e.key, jsonCodec.decode(e.value)]));
    expect(decoded).toEqual(values);
    expect(Object.is(decoded.neg, -0)).toBe(true);
  });

  it('reports a malformed line by its number and imports the rest', async () => {
    const source = new MemoryStore({ sweepIntervalSeconds: 0 });
    await fill(source, key('k1'), { a: 1 }, NOW + 100);
    await fill(source, key('k2'), { a: 2 }, NOW + 100);
    const [first, second] = (await collect(source)).trim().split('\n');
    const input = [first, '{not json', '{"v":1,"key":"x"}', second].join('\n');
    const target = new MemoryStore({ sweepIntervalSeconds: 0 });
    const report = await importSessions(target, Readable.from([input]), { now: NOW });
    expect(report.imported).toBe(2);
    expect(report.problems.map((p) => p.line)).toEqual([2, 3]);
    expect(report.problems[0]?.message).toBe('not valid JSON');
  });

  it('stops at the first malformed line under strict', async () => {
    const target = new MemoryStore({ sweepIntervalSeconds: 0 });
    const input = '\n[1,2]\n';
    await expect(importSessions(target, Readable.from([input]), { now: NOW, strict: true })).rejects.toThrow(
      ImportLineError,
    );
    await expect(importSessions(target, Readable.from([input]), { now: NOW, strict: true })).rejects.toMatchObject({
      line: 2,
    });
  });

  it('skips sessions that exist unless asked to replace them', async () => {
    const source = new MemoryStore({ sweepIntervalSeconds: 0 });
    await fill(source, key('k1'), { a: 'new' }, NOW + 100);
    const target = new MemoryStore({ sweepIntervalSeconds: 0 });
    await fill(target, key('k1'), { a: 'old' }, NOW + 100);
    const text = await collect(source);
    expect(await importSessions(target, Readable.from([text]), { now: NOW })).toMatchObject({
      imported: 0,
      skipped: 1,
    });
    expect((await target.load(key('k1'), NOW))?.entries[0]?.value).toBe('"old"');
    expect(await importSessions(target, Readable.from([text]), { now: NOW, replace: true })).toMatchObject({
      imported: 1,
    });
    expect((await target.load(key('k1'), NOW))?.entries[0]?.value).toBe('"new"');
  });
});

describe('SPEC 42: import refuses values that would not decode', () => {
  it('reports an entry whose value the codec cannot read, by line, and imports nothing of that line', async () => {
    const good = {
      v: 1,
      key: key('k1'),
      createdAt: NOW,
      lastAccess: NOW,
      expiresAt: null,
      entries: [{ pkg: 'p', key: 'a', value: '1' }],
    };
    const bad = { ...good, key: key('k2'), entries: [{ pkg: 'p', key: 'a', value: 'not json{' }] };
    const target = new MemoryStore({ sweepIntervalSeconds: 0 });
    const report = await importSessions(target, Readable.from([`${JSON.stringify(good)}\n${JSON.stringify(bad)}\n`]), {
      now: NOW,
    });
    expect(report.imported).toBe(1);
    expect(report.problems).toHaveLength(1);
    expect(report.problems[0]).toMatchObject({ line: 2 });
    expect(report.problems[0]?.message).toContain('"p" › "a"');
    expect(await target.load(key('k2'), NOW)).toBeUndefined();
  });
});
