import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonCodec, SessionSerializationError } from '../../src/index.js';

const roundTrip = (value: unknown) => jsonCodec.decode(jsonCodec.encode(value, ['pkg', 'key']));

/** Deep equality with Object.is for primitives (so -0 and NaN count), insertion order for Map and Set. */
function deepEqual(a: unknown, b: unknown): boolean {
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) return Object.is(a, b);
  if (a instanceof Date) return b instanceof Date && Object.is(a.getTime(), b.getTime());
  if (a instanceof Map) {
    return b instanceof Map && a.size === b.size && deepEqual([...a], [...b]);
  }
  if (a instanceof Set) return b instanceof Set && a.size === b.size && deepEqual([...a], [...b]);
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((item, i) => deepEqual(item, b[i]));
  }
  if (Array.isArray(b) || b instanceof Date || b instanceof Map || b instanceof Set) return false;
  if (Object.getPrototypeOf(b) !== Object.prototype) return false;
  const keysA = Object.keys(a);
  const keysB = Object.keys(b);
  return (
    deepEqual(keysA, keysB) &&
    keysA.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
  );
}

/** A plain object from entries, `__proto__` included as an own data property. */
function plainObject(entries: readonly (readonly [string, unknown])[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of entries) {
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

const objectKey = fc.oneof(
  fc.string(),
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', '$', '$d', '$m', '$o', '$u', '$n', '$zz', '0'),
);

const supported = fc.letrec((tie) => ({
  leaf: fc.oneof(
    fc.string({ unit: 'binary' }),
    fc.double(),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.constant(undefined),
    fc.bigInt(),
    fc.date({ noInvalidDate: false }),
  ),
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, tie('leaf'), tie('node')),
  node: fc.oneof(
    fc.array(tie('value'), { maxLength: 4 }),
    fc.uniqueArray(fc.tuple(objectKey, tie('value')), { maxLength: 4, selector: ([k]) => k }).map(plainObject),
    fc.array(fc.tuple(tie('value'), tie('value')), { maxLength: 3 }).map((entries) => new Map(entries)),
    fc.array(tie('value'), { maxLength: 3 }).map((items) => new Set(items)),
  ),
})).value;

describe('SPEC 34: values round-trip with their types', () => {
  it('SPEC 34: property: decode(encode(x)) deep-equals x for every supported value', () => {
    fc.assert(
      fc.property(supported, (value) => {
        expect(deepEqual(roundTrip(value), value)).toBe(true);
      }),
      { numRuns: 3_000 },
    );
  });

  it('SPEC 34: the deep-equality the property uses tells -0 from 0, NaN from null, and types apart', () => {
    expect(deepEqual(-0, 0)).toBe(false);
    expect(deepEqual(Number.NaN, Number.NaN)).toBe(true);
    expect(deepEqual({ a: undefined }, {})).toBe(false);
    expect(deepEqual(new Map([[1, 1]]), new Map([['1', 1]]))).toBe(false);
    expect(deepEqual(new Set([1]), [1])).toBe(false);
    expect(deepEqual(new Date(Number.NaN), new Date(0))).toBe(false);
  });

  it('SPEC 34: every supported type, by example', () => {
    const cases: [string, unknown][] = [
      ['string', 'héllo "world" \u2028 \ud800'],
      ['empty string', ''],
      ['integer', 42],
      ['float', -1.5e-300],
      ['-0', -0],
      ['NaN', Number.NaN],
      ['Infinity', Number.POSITIVE_INFINITY],
      ['-Infinity', Number.NEGATIVE_INFINITY],
      ['true', true],
      ['null', null],
      ['undefined', undefined],
      ['undefined in an object', { a: undefined, b: 1 }],
      ['undefined in an array', [undefined, 1, undefined]],
      ['numbers in an array', [-0, Number.NaN, Number.POSITIVE_INFINITY]],
      ['Date', new Date('2020-02-29T12:34:56.789Z')],
      ['invalid Date', new Date(Number.NaN)],
      [
        'Map with non-string keys',
        new Map<unknown, unknown>([
          [1, 'one'],
          ['1', 'string one'],
          [{ k: 1 }, [1]],
          [null, undefined],
          [new Date(0), 'epoch'],
          [10n, 'ten'],
        ]),
      ],
      ['Set', new Set([1, 'a', { b: 2 }, [3]])],
      ['BigInt', -(2n ** 100n)],
      ['nested', { a: [{ b: new Map([['c', new Set([new Date(1)])]]) }], d: { e: { f: 1n } } }],
      ['single $-key object', { $d: '2020-01-01' }],
      ['single $-key object holding a tag', { $o: { $m: [] } }],
      ['single $ key', { $: 1 }],
      ['$-keys among others', { $d: 1, x: 2 }],
      ['empty object', {}],
      ['empty array', []],
    ];
    for (const [label, value] of cases) {
      expect(deepEqual(roundTrip(value), value), label).toBe(true);
    }
  });

  it('SPEC 34: __proto__ and constructor keys are stored as data and never pollute prototypes', () => {
    const hostile = JSON.parse('{"__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}}}');
    const decoded = roundTrip(hostile) as Record<string, unknown>;
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
    expect(Object.keys(decoded)).toEqual(['__proto__', 'constructor']);
    expect(Object.getOwnPropertyDescriptor(decoded, '__proto__')?.value).toEqual({ polluted: true });
    expect((decoded as { polluted?: unknown }).polluted).toBeUndefined();
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();

    const raw = jsonCodec.decode('{"$o":{"__proto__":{"polluted":true}}}') as object;
    expect(Object.getPrototypeOf(raw)).toBe(Object.prototype);
    expect(Object.keys(raw)).toEqual(['__proto__']);
    const single = roundTrip(plainObject([['__proto__', 1]])) as object;
    expect(Object.getOwnPropertyDescriptor(single, '__proto__')?.value).toBe(1);
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });

  it('SPEC 34: the encoding of a value is stable, so unchanged values compare equal at commit', () => {
    const value = { a: [1, 2], m: new Map([['x', new Set([1])]]) };
    expect(jsonCodec.encode(value, ['p', 'k'])).toBe(jsonCodec.encode(structuredClone(value), ['p', 'k']));
  });
});

describe('SPEC 33: values the codec refuses', () => {
  class Handle {
    fd = 3;
  }
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic.self = { back: cyclic };

  const cases: [string, unknown, string, RegExp][] = [
    ['a function in a nested object', { handle: () => {} }, 'products.foo › oops › handle', /functions/],
    ['a symbol', { tag: Symbol('x') }, 'products.foo › oops › tag', /symbols/],
    ['a symbol key', { [Symbol('x')]: 1 }, 'products.foo › oops', /symbol keys/],
    ['a class instance', { list: [0, new Handle()] }, 'products.foo › oops › list › 1', /instances of Handle/],
    ['a cycle', cyclic, 'products.foo › oops › self › back', /cycle/],
    ['a function in a Map', new Map([['cb', () => {}]]), 'products.foo › oops › cb', /functions/],
    ['a RegExp', /x/, 'products.foo › oops', /instances of RegExp/],
  ];
  for (const [label, value, path, reason] of cases) {
    it(`SPEC 33: ${label} is refused with a SessionSerializationError naming ${path}`, () => {
      let error: unknown;
      try {
        jsonCodec.encode(value, ['products.foo', 'oops']);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(SessionSerializationError);
      expect(error).toBeInstanceOf(TypeError);
      const e = error as SessionSerializationError;
      expect(e.code).toBe('TSESSION_SERIALIZATION');
      expect(e.message).toContain(`cannot serialize ${path}:`);
      expect(e.message).toMatch(reason);
      expect(e.path.join(' › ')).toBe(path);
    });
  }

  it('SPEC 33: a value shared twice without a cycle is not a cycle', () => {
    const shared = { n: 1 };
    expect(roundTrip({ a: shared, b: [shared] })).toEqual({ a: { n: 1 }, b: [{ n: 1 }] });
  });
});
