/**
 * JSON Lines imports with random garbage among good lines (issue 7): every bad line is
 * reported with its 1-based number, every good line is imported exactly (expired ones
 * skipped), blank lines are ignored, nothing throws; under `strict` the first bad line
 * stops the import with `ImportLineError` carrying its number. The input arrives in
 * random chunks, with `\n` or `\r\n` endings, to exercise line reassembly.
 */
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonCodec } from '../../src/codec/codec.js';
import { MemoryStore } from '../../src/stores/memory/index.js';
import { ImportLineError, importSessions } from '../../src/transfer/import.js';
import { bump, fuzzRuns, prototypeClean, recordRow, tally } from './record.js';

const RUNS = fuzzRuns(5_000, 0.5);
const NOW = 1_000_000;

type Line =
  | { kind: 'good' | 'expired'; entries: { pkg: string; key: string; value: string }[]; make: (key: string) => string }
  | { kind: 'bad' | 'blank'; text: string; what: string };

const noBreak = (s: string) => !/[\r\n]/.test(s);
/** A store key of the form signed ids have (24 base64url characters). */
const clientKey = (name: string) => name.padEnd(24, '_');
type Entry = { pkg: string; key: string; value: string };
const withEntry = (s: Record<string, unknown>, entry: Entry) => ({ ...s, entries: [...(s.entries as Entry[]), entry] });
const manyKeys = (n: number) => Array.from({ length: n }, (_, i) => ({ pkg: 'many', key: `k${i}`, value: '1' }));
const manyPackages = (n: number) => Array.from({ length: n }, (_, i) => ({ pkg: `p${i}`, key: 'k', value: '1' }));
const entries = fc.uniqueArray(
  fc.record({
    pkg: fc.constantFrom('app.cart', 'app.user', '__proto__', 'constructor'),
    key: fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom('__proto__', 'prototype')),
    value: fc.jsonValue({ maxDepth: 3 }).map((v) => jsonCodec.encode(v, ['p', 'k'])),
  }),
  { maxLength: 4, selector: (e) => `${e.pkg}\0${e.key}` },
);
const session = (expiresAt: number | null) => (list: { pkg: string; key: string; value: string }[]) => (key: string) =>
  JSON.stringify({ v: 1, key, createdAt: NOW - 100, lastAccess: NOW - 10, expiresAt, entries: list });

const good: fc.Arbitrary<Line> = fc
  .tuple(entries, fc.option(fc.integer({ min: NOW + 1, max: NOW + 86_400 })))
  .map(([list, expiresAt]) => ({ kind: 'good', entries: list, make: session(expiresAt)(list) }));
const expired: fc.Arbitrary<Line> = entries.map((list) => ({
  kind: 'expired',
  entries: list,
  make: session(NOW - 1)(list),
}));

/** A line that looks like a session but breaks one rule. */
const broken = fc
  .tuple(
    fc.constantFrom<[string, (s: Record<string, unknown>) => unknown]>(
      ['version 2', (s) => ({ ...s, v: 2 })],
      ['no version', ({ v: _v, ...s }) => s],
      ['empty key', (s) => ({ ...s, key: '' })],
      ['numeric key', (s) => ({ ...s, key: 7 })],
      ['createdAt text', (s) => ({ ...s, createdAt: '1' })],
      ['lastAccess null', (s) => ({ ...s, lastAccess: null })],
      ['expiresAt text', (s) => ({ ...s, expiresAt: 'never' })],
      ['entries object', (s) => ({ ...s, entries: {} })],
      ['entry value number', (s) => ({ ...s, entries: [{ pkg: 'a', key: 'b', value: 1 }] })],
      ['entry null', (s) => ({ ...s, entries: [null] })],
      ['array', (s) => [s]],
      ['__proto__ version', ({ v: _v, ...s }) => JSON.parse(`{"__proto__":{"v":1},${JSON.stringify(s).slice(1)}`)],
      // issue 11 finding 5: each line breaks one rule a Session holds its writes to
      ['NUL in package id', (s) => withEntry(s, { pkg: 'app\0cart', key: 'a', value: '1' })],
      ['NUL in key', (s) => withEntry(s, { pkg: 'app.cart', key: 'a\0b', value: '1' })],
      ['lone high surrogate in package id', (s) => withEntry(s, { pkg: 'app\uD800', key: 'a', value: '1' })],
      ['lone low surrogate in key', (s) => withEntry(s, { pkg: 'app.cart', key: '\uDC00', value: '1' })],
      ['reversed surrogate pair in key', (s) => withEntry(s, { pkg: 'app.cart', key: '\uDC00\uD800', value: '1' })],
      ['reserved package', (s) => withEntry(s, { pkg: 'tsession:internal', key: 'binding', value: '"x"' })],
      ['empty package id', (s) => withEntry(s, { pkg: '', key: 'a', value: '1' })],
      ['package id of 257 characters', (s) => withEntry(s, { pkg: 'p'.repeat(257), key: 'a', value: '1' })],
      [
        'duplicate entry',
        (s) => ({
          ...s,
          entries: [
            { pkg: 'dup', key: 'k', value: '1' },
            { pkg: 'dup', key: 'k', value: '2' },
          ],
        }),
      ],
      ['client key not signed-id form', (s) => ({ ...s, key: 'short' })],
      ['client key with NUL', (s) => ({ ...s, key: `${'a'.repeat(23)}\0` })],
      ['client key with lone surrogate', (s) => ({ ...s, key: `${'a'.repeat(23)}\uD800` })],
      ['lastAccess past the largest Date', (s) => ({ ...s, lastAccess: 1e13 })],
      ['negative createdAt', (s) => ({ ...s, createdAt: -1 })],
      ['expiresAt past the largest Date', (s) => ({ ...s, expiresAt: 9e12 })],
      ['over maxKeysPerPackage', (s) => ({ ...s, entries: manyKeys(1001) })],
      ['over maxPackages', (s) => ({ ...s, entries: manyPackages(101) })],
    ),
    entries,
  )
  .map(([[what, edit], list]): Line => {
    const base = { v: 1, key: clientKey('k'), createdAt: NOW, lastAccess: NOW, expiresAt: null, entries: list };
    return { kind: 'bad', what, text: JSON.stringify(edit(base)) };
  });

const line: fc.Arbitrary<Line> = fc.oneof(
  { weight: 5, arbitrary: good },
  { weight: 1, arbitrary: expired },
  { weight: 3, arbitrary: broken },
  // a good line cut short
  {
    weight: 2,
    arbitrary: fc.tuple(good, fc.nat()).map(([g, n]): Line => {
      const text = (g as Extract<Line, { make: unknown }>).make(clientKey('cut'));
      return { kind: 'bad', what: 'truncated', text: text.slice(0, 1 + (n % (text.length - 1))) };
    }),
  },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 60 }).filter(noBreak).map(textLine('random')) },
  { weight: 2, arbitrary: fc.json({ maxDepth: 2 }).filter(noBreak).map(textLine('other JSON')) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('', ' ', '\t', '  \t ').map((text): Line => ({ kind: 'blank', text, what: '' })),
  },
);

function textLine(what: string) {
  return (text: string): Line => ({ kind: text.trim() === '' ? 'blank' : 'bad', text, what });
}

/** The file's text and what each line is, with unique keys per run. */
const file = fc
  .tuple(
    fc.array(line, { maxLength: 30 }),
    fc.constantFrom('\n', '\r\n'),
    fc.boolean(),
    fc.array(fc.nat(), { maxLength: 6 }),
  )
  .map(([lines, eol, finalEol, cuts]) => {
    const texts = lines.map((l, i) => ('make' in l ? l.make(clientKey(`key-${i}`)) : l.text));
    const text = texts.join(eol) + (finalEol && lines.length > 0 ? eol : '');
    const at = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
    const chunks = [0, ...at].map((from, i) => text.slice(from, at[i] ?? text.length)).filter((c) => c !== '');
    return { lines, chunks };
  });

const input = (chunks: readonly string[]) => Readable.from(chunks.map((c) => Buffer.from(c, 'utf8')));

describe('fuzz: JSON Lines imports with garbage lines', () => {
  it(`${RUNS} files: bad lines reported by number, good lines imported exactly, no throw`, async () => {
    const kinds = new Map<string, number>();
    const started = performance.now();
    await fc.assert(
      fc.asyncProperty(file, async ({ lines, chunks }) => {
        const store = new MemoryStore({ sweepIntervalSeconds: 0 });
        const report = await importSessions(store, input(chunks), { now: NOW });
        const numbered = lines.map((l, i) => ({ ...l, number: i + 1 }));
        expect(report.problems.map((p) => p.line)).toEqual(
          numbered.filter((l) => l.kind === 'bad').map((l) => l.number),
        );
        for (const problem of report.problems) expect(problem.message).toMatch(/\S/);
        expect(report.imported).toBe(lines.filter((l) => l.kind === 'good').length);
        expect(report.skipped).toBe(lines.filter((l) => l.kind === 'expired').length);
        for (const l of numbered) {
          bump(kinds, l.kind === 'bad' ? `bad (${l.what})` : l.kind);
          if (l.kind !== 'good' && l.kind !== 'expired') continue;
          const stored = await store.load(clientKey(`key-${l.number - 1}`), NOW);
          if (l.kind === 'expired') expect(stored).toBeUndefined();
          else expect(stored?.entries.map(({ pkg, key, value }) => ({ pkg, key, value }))).toEqual(l.entries);
        }
        expect(prototypeClean()).toBe(true);
        await store.close();
      }),
      { numRuns: RUNS },
    );
    const lines = [...kinds.values()].reduce((a, b) => a + b, 0);
    recordRow('fuzz-import', {
      test: 'JSON Lines import',
      load: `${RUNS} files (fast-check), ${lines} lines, random chunking, LF or CRLF`,
      faults: 'none',
      inputs:
        'random bytes, other JSON, truncated lines, `__proto__` keys, blank lines, sessions breaking one rule each: NUL and lone surrogates in package ids, keys and client keys, the reserved package, repeated entries, times past the largest Date, the caps (issue 11)',
      lostWrites: 0,
      errors: 'none (every bad line reported by number)',
      recoveryMs: null,
      notes: tally(new Map([...kinds].sort(([a], [b]) => a.localeCompare(b)))),
      durationMs: Math.round(performance.now() - started),
    });
  });

  it(`${Math.ceil(RUNS / 2)} files under strict: the first bad line stops the import with its number`, async () => {
    const started = performance.now();
    let stopped = 0;
    await fc.assert(
      fc.asyncProperty(file, async ({ lines, chunks }) => {
        const store = new MemoryStore({ sweepIntervalSeconds: 0 });
        const firstBad = lines.findIndex((l) => l.kind === 'bad');
        const outcome = await importSessions(store, input(chunks), { now: NOW, strict: true }).then(
          (report) => report,
          (error: unknown) => error,
        );
        if (firstBad < 0) {
          expect(outcome).not.toBeInstanceOf(Error);
        } else {
          stopped++;
          expect(outcome).toBeInstanceOf(ImportLineError);
          expect((outcome as ImportLineError).line).toBe(firstBad + 1);
          // the good lines before it were imported, none after it
          const before = lines.slice(0, firstBad).filter((l) => l.kind === 'good').length;
          expect(store.size).toBe(before);
        }
        await store.close();
      }),
      { numRuns: Math.ceil(RUNS / 2) },
    );
    expect(stopped).toBeGreaterThan(0);
    recordRow('fuzz-import', {
      test: 'JSON Lines import, strict',
      load: `${Math.ceil(RUNS / 2)} files (fast-check)`,
      faults: 'none',
      inputs: 'the same files',
      lostWrites: 0,
      errors: `ImportLineError x ${stopped} (each at the first bad line)`,
      recoveryMs: null,
      durationMs: Math.round(performance.now() - started),
    });
  });
});
