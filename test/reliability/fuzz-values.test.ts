/**
 * Hostile session values (issue 7), committed through a real Session over MemoryStore
 * and read back by the next request: anything fast-check makes (Map, Set, Date, BigInt,
 * null prototypes, boxed values, typed arrays), `__proto__`/`constructor`/`prototype`
 * and `$`-keys at every level, cycles, huge strings, deep nesting. Each value either
 * round-trips exactly or is refused with a typed error and nothing written; and
 * `Object.prototype` is never polluted.
 */
import { performance } from 'node:perf_hooks';
import fc from 'fast-check';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { MAX_DEPTH, SessionSerializationError, SessionTooLargeError } from '../../src/index.js';
import { browser, memoryManager } from '../helpers.js';
import { bump, fuzzRuns, prototypeClean, recordRow, tally } from './record.js';
import { sameData } from './same-data.js';

const RUNS = fuzzRuns(5_000);
const PKG = 'fuzz.values';
const { manager, store } = memoryManager();
afterAll(() => store.close());
afterEach(() => expect(prototypeClean(), 'Object.prototype was polluted').toBe(true));

/** Keys that reach for prototypes, or look like the codec's tags, among ordinary ones. */
const hostileKey = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 8 }) },
  {
    weight: 2,
    arbitrary: fc.constantFrom('__proto__', 'constructor', 'prototype', 'polluted', 'toString', 'hasOwnProperty'),
  },
  { weight: 1, arbitrary: fc.constantFrom('$d', '$m', '$s', '$b', '$u', '$n', '$o', '$t', '$', '$$o') },
);

type Outcome = 'round trip' | 'SessionSerializationError' | 'SessionTooLargeError';

/**
 * Commits `value` under a fresh client and reads it back in a second request. Resolves
 * the outcome; throws (failing the property) on an untyped error, an inexact round
 * trip, a partial write, or a polluted prototype.
 */
async function roundTrip(value: unknown): Promise<Outcome> {
  const client = browser(manager);
  const sizeBefore = store.size;
  let outcome: Outcome = 'round trip';
  try {
    await client.visit(async (session) => (await session.get(PKG)).set('v', value));
  } catch (error) {
    if (error instanceof SessionSerializationError) outcome = 'SessionSerializationError';
    else if (error instanceof SessionTooLargeError) outcome = 'SessionTooLargeError';
    else throw error;
    expect(store.size, 'a refused commit wrote something').toBe(sizeBefore);
    expect(client.cookie).toBeUndefined();
  }
  if (outcome === 'round trip') {
    const { result } = await client.visit(async (session) => (await session.get(PKG)).get('v'));
    expect(sameData(value, result)).toBeUndefined();
  }
  expect(prototypeClean(), 'Object.prototype was polluted').toBe(true);
  return outcome;
}

function record(
  test: string,
  load: string,
  inputs: string,
  outcomes: Map<string, number>,
  started: number,
  notes = '',
) {
  recordRow('fuzz-values', {
    test,
    load,
    faults: 'none',
    inputs,
    lostWrites: null,
    errors: tally(new Map([...outcomes].filter(([kind]) => kind !== 'round trip'))),
    recoveryMs: null,
    notes: `${tally(outcomes)}; Object.prototype clean after every run${notes ? `; ${notes}` : ''}`,
    durationMs: Math.round(performance.now() - started),
  });
}

describe('fuzz: hostile session values', () => {
  it(`${RUNS} arbitrary values: exact round trip or a typed refusal, nothing partial`, async () => {
    const outcomes = new Map<string, number>();
    const started = performance.now();
    const settings = {
      key: hostileKey,
      maxDepth: 5,
      maxKeys: 6,
      withMap: true,
      withSet: true,
      withDate: true,
      withBigInt: true,
      withNullPrototype: true,
      withObjectString: false,
      withSparseArray: false, // holes come back as null, as in JSON (see docs/reliability.md)
      withUnicodeString: true,
    };
    const value = fc.oneof(
      { weight: 4, arbitrary: fc.anything(settings) },
      // boxed values and typed arrays are not plain data: refused
      { weight: 1, arbitrary: fc.anything({ ...settings, withBoxedValues: true, withTypedArray: true }) },
    );
    await fc.assert(
      fc.asyncProperty(value, async (v) => {
        bump(outcomes, await roundTrip(v));
      }),
      { numRuns: RUNS },
    );
    expect(outcomes.get('round trip') ?? 0).toBeGreaterThan(0);
    expect(outcomes.get('SessionSerializationError') ?? 0).toBeGreaterThan(0);
    record(
      'Arbitrary values',
      `${RUNS} values (fast-check), 2 requests each`,
      'fc.anything: Map, Set, Date, BigInt, -0/NaN, null-prototype, boxed, typed arrays, unicode; __proto__/constructor/prototype/$-tag keys at every level',
      outcomes,
      started,
    );
  });

  it(`${RUNS} JSON payloads with __proto__/constructor.prototype at every level never pollute`, async () => {
    const outcomes = new Map<string, number>();
    const started = performance.now();
    const poison = fc.letrec<{ node: unknown }>((tie) => ({
      node: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        fc.constantFrom(1, 'x', null, true),
        fc.dictionary(hostileKey, tie('node'), { maxKeys: 4 }),
        fc.array(tie('node'), { maxLength: 3 }),
        tie('node').map((inner) => ({ __proto__x: inner, polluted: 'own' })),
        tie('node').map((inner) => ({ constructor: { prototype: { polluted: inner } } })),
      ),
    })).node;
    await fc.assert(
      fc.asyncProperty(poison, async (tree) => {
        // JSON.parse makes `__proto__` an own data property, as a parsed request body would
        const value = JSON.parse(JSON.stringify(tree).replaceAll('"__proto__x"', '"__proto__"'));
        const outcome = await roundTrip(value);
        bump(outcomes, outcome);
        expect(outcome).toBe('round trip');
      }),
      { numRuns: RUNS },
    );
    record(
      'Prototype-pollution payloads',
      `${RUNS} values (fast-check), 2 requests each`,
      'JSON.parse trees with own `__proto__`, `constructor.prototype`, `prototype` keys nested at every level',
      outcomes,
      started,
    );
  });

  it(`${Math.ceil(RUNS / 5)} values with a cycle are refused with SessionSerializationError naming the path`, async () => {
    const outcomes = new Map<string, number>();
    const started = performance.now();
    const chain = fc.tuple(
      fc.array(fc.tuple(fc.constantFrom('object', 'array', 'map', 'set', 'map-key'), fc.jsonValue({ maxDepth: 1 })), {
        minLength: 1,
        maxLength: 12,
      }),
      fc.nat(),
    );
    await fc.assert(
      fc.asyncProperty(chain, async ([links, back]) => {
        const nodes: { kind: string; node: object }[] = links.map(([kind, junk]) => {
          if (kind === 'object') return { kind, node: { junk } };
          if (kind === 'array') return { kind, node: [junk] };
          if (kind === 'set') return { kind, node: new Set([junk]) };
          return { kind, node: new Map([['junk', junk]]) };
        });
        const add = ({ kind, node }: { kind: string; node: object }, child: object) => {
          if (kind === 'object') (node as Record<string, unknown>).next = child;
          else if (kind === 'array') (node as unknown[]).push(child);
          else if (kind === 'set') (node as Set<unknown>).add(child);
          else if (kind === 'map-key') (node as Map<unknown, unknown>).set(child, 1);
          else (node as Map<unknown, unknown>).set('next', child);
        };
        for (let i = 0; i + 1 < nodes.length; i++) add(nodes[i]!, nodes[i + 1]!.node);
        add(nodes[nodes.length - 1]!, nodes[back % nodes.length]!.node);
        let error: unknown;
        await browser(manager)
          .visit(async (session) => (await session.get(PKG)).set('v', nodes[0]?.node))
          .catch((e: unknown) => (error = e));
        expect(error).toBeInstanceOf(SessionSerializationError);
        expect((error as SessionSerializationError).message).toContain('cycle');
        expect((error as SessionSerializationError).path.slice(0, 2)).toEqual([PKG, 'v']);
        bump(outcomes, 'SessionSerializationError');
      }),
      { numRuns: Math.ceil(RUNS / 5) },
    );
    // the same shapes shared without a cycle are stored (copied)
    const shared = { s: 1 };
    expect(await roundTrip({ a: shared, b: [shared], c: new Map([[shared, shared]]) })).toBe('round trip');
    record(
      'Cycles',
      `${Math.ceil(RUNS / 5)} values (fast-check)`,
      'chains of 1-12 objects/arrays/Maps (key or value)/Sets closed back on a random ancestor',
      outcomes,
      started,
    );
  });

  it('huge strings: up to maxSessionBytes stored, beyond it SessionTooLargeError with nothing written', async () => {
    const outcomes = new Map<string, number>();
    const started = performance.now();
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 2_500_000 }),
        fc.constantFrom('a', 'é', '"', '\u2028', '💥'),
        async (n, c) => {
          const outcome = await roundTrip(c.repeat(Math.floor(n / c.length)));
          bump(outcomes, outcome);
          expect(outcome).not.toBe('SessionSerializationError');
        },
      ),
      { numRuns: 30 },
    );
    expect(outcomes.get('SessionTooLargeError') ?? 0).toBeGreaterThan(0);
    record(
      'Huge strings',
      '30 strings (fast-check)',
      'strings of 0-2.5 M characters, escaped and astral ones',
      outcomes,
      started,
    );
  });
});

describe('deep nesting', () => {
  const nested = (depth: number, array: boolean): unknown => {
    let value: unknown = 'bottom';
    for (let i = 0; i < depth; i++) value = array ? [value] : { d: value };
    return value;
  };
  /** About the deepest nesting that round-trips (within 50 levels), by bisection over [100, 10,000]. */
  const deepestStored = async (array: boolean): Promise<number> => {
    let low = 100;
    let high = 10_000;
    while (high - low > 50) {
      const mid = (low + high + 1) >> 1;
      const ok = await roundTrip(nested(mid, array)).then(
        (outcome) => outcome === 'round trip',
        () => false,
      );
      if (ok) low = mid;
      else high = mid - 1;
    }
    return low;
  };

  it('up to MAX_DEPTH levels of objects and of arrays round-trip; one more is a typed error', async () => {
    expect(await roundTrip(nested(MAX_DEPTH, false))).toBe('round trip');
    expect(await roundTrip(nested(MAX_DEPTH, true))).toBe('round trip');
    expect(await roundTrip(nested(MAX_DEPTH + 1, true))).toBe('SessionSerializationError');
  });

  it('10,000 levels never crash the process: the commit is refused, nothing is written, the next request works', async () => {
    const started = performance.now();
    const outcomes = new Map<string, number>();
    for (const array of [false, true]) {
      const client = browser(manager);
      const before = store.size;
      const error = await client
        .visit(async (session) => (await session.get(PKG)).set('v', nested(10_000, array)))
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      bump(outcomes, error === undefined ? 'round trip' : (error as Error).name);
      if (error !== undefined) expect(store.size).toBe(before);
      expect(await roundTrip({ after: 'fine' })).toBe('round trip');
    }
    const objects = await deepestStored(false);
    const arrays = await deepestStored(true);
    recordRow('fuzz-values', {
      test: 'Deep nesting',
      load: '10,000 levels, objects and arrays; bisection of the deepest that works',
      faults: 'none',
      inputs: 'values nested 10,000 levels deep',
      lostWrites: null,
      errors: tally(outcomes),
      recoveryMs: null,
      notes:
        `deepest that round-trips: ${objects} levels of objects, ${arrays} of arrays (MAX_DEPTH ${MAX_DEPTH}); deeper is ` +
        'refused with a typed SessionSerializationError and nothing is written',
      durationMs: Math.round(performance.now() - started),
    });
  });

  it('10,000 levels are refused with a typed SessionSerializationError', async () => {
    await expect(roundTrip(nested(10_000, false))).resolves.toBe('SessionSerializationError');
  });
});
