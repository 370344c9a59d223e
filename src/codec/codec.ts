import { SessionSerializationError } from '../errors.js';

/**
 * Turns session values into strings for the store and back. Each (package, key)
 * value is encoded on its own, so a commit can compare encodings to find what changed.
 */
export interface SessionCodec {
  /**
   * Encodes one value. Throws {@link SessionSerializationError} for a value it cannot
   * represent; `path` is the package id and key, for the error message.
   */
  encode(value: unknown, path: readonly string[]): string;
  /** Decodes what {@link SessionCodec.encode} produced. */
  decode(text: string): unknown;
}

/**
 * Tags for values plain JSON cannot carry. A tagged node is an object whose only
 * key is `$t`-prefixed: `{"$d":"2020-01-01T00:00:00.000Z"}`. A plain object that
 * happens to have a single `$`-key of its own is wrapped as `{"$o":{...}}`.
 */
const TAG = {
  date: '$d',
  map: '$m',
  set: '$s',
  bigint: '$b',
  undefined: '$u',
  number: '$n',
  object: '$o',
} as const;

type Path = (string | number)[];

/**
 * The deepest nesting of objects, arrays, Maps and Sets a value may have. Far beyond
 * real session data, and well inside the stack, so a deep value is a typed error, not
 * a `RangeError` from the runtime.
 */
export const MAX_DEPTH = 512;
/** Tags nest up to three JSON levels per value level, so decoding allows that much. */
const MAX_DECODE_DEPTH = MAX_DEPTH * 3 + 8;

/**
 * The default codec: JSON extended with Date, Map, Set, BigInt, undefined, -0, NaN
 * and ±Infinity. Refuses functions, symbols, class instances and cycles with a
 * {@link SessionSerializationError} naming the path. Keys such as `__proto__` are
 * kept as data and never touch prototypes.
 */
export const jsonCodec: SessionCodec = {
  encode(value, path) {
    if (typeof value === 'string' || typeof value === 'boolean' || value === null) {
      return JSON.stringify(value);
    }
    if (typeof value === 'number' && Number.isFinite(value) && !Object.is(value, -0)) {
      return JSON.stringify(value);
    }
    return JSON.stringify(toJson(value, [...path], new Set()));
  },
  decode(text) {
    return fromJson(JSON.parse(text), 0);
  },
};

function toJson(value: unknown, path: Path, ancestors: Set<object>): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return encodeNumber(value);
    case 'bigint':
      return { [TAG.bigint]: value.toString() };
    case 'undefined':
      return { [TAG.undefined]: 0 };
    case 'function':
      throw new SessionSerializationError(path, 'functions cannot be stored in a session');
    case 'symbol':
      throw new SessionSerializationError(path, 'symbols cannot be stored in a session');
  }
  if (value === null) return null;
  return objectToJson(value as object, path, ancestors);
}

function encodeNumber(value: number): unknown {
  if (Number.isFinite(value) && !Object.is(value, -0)) return value;
  return { [TAG.number]: Object.is(value, -0) ? '-0' : String(value) };
}

function objectToJson(value: object, path: Path, ancestors: Set<object>): unknown {
  if (ancestors.has(value)) {
    throw new SessionSerializationError(path, 'the value contains a cycle');
  }
  if (ancestors.size >= MAX_DEPTH) {
    const shown = [...path.slice(0, 3), `… ${path.length - 5} more …`, ...path.slice(-2)];
    throw new SessionSerializationError(shown, `the value is nested more than ${MAX_DEPTH} levels deep`);
  }
  ancestors.add(value);
  try {
    return encodeObject(value, path, ancestors);
  } finally {
    ancestors.delete(value);
  }
}

function encodeObject(value: object, path: Path, ancestors: Set<object>): unknown {
  if (Array.isArray(value)) {
    return value.map((item, i) => toJson(item, [...path, i], ancestors));
  }
  if (value instanceof Date) {
    const time = value.getTime();
    return { [TAG.date]: Number.isNaN(time) ? null : value.toISOString() };
  }
  if (value instanceof Map) {
    return {
      [TAG.map]: [...value].map(([k, v], i) => [
        toJson(k, [...path, `<map key ${i}>`], ancestors),
        toJson(v, [...path, mapKeyLabel(k, i)], ancestors),
      ]),
    };
  }
  if (value instanceof Set) {
    return { [TAG.set]: [...value].map((item, i) => toJson(item, [...path, i], ancestors)) };
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    const name = (proto?.constructor as { name?: string } | undefined)?.name ?? 'unknown';
    throw new SessionSerializationError(
      path,
      `instances of ${name} are not plain data; store a plain object, or pass a codec that knows ${name}`,
    );
  }
  return encodePlainObject(value as Record<string, unknown>, path, ancestors);
}

function mapKeyLabel(key: unknown, index: number): string | number {
  return typeof key === 'string' || typeof key === 'number' ? key : `<map entry ${index}>`;
}

function encodePlainObject(value: Record<string, unknown>, path: Path, ancestors: Set<object>): unknown {
  if (Object.getOwnPropertySymbols(value).length > 0) {
    throw new SessionSerializationError(path, 'symbol keys cannot be stored in a session');
  }
  const out: Record<string, unknown> = {};
  const keys = Object.keys(value);
  for (const key of keys) {
    defineData(out, key, toJson(value[key], [...path, key], ancestors));
  }
  const onlyKey = keys.length === 1 ? keys[0] : undefined;
  return onlyKey?.startsWith('$') ? { [TAG.object]: out } : out;
}

function fromJson(node: unknown, depth: number): unknown {
  if (node === null || typeof node !== 'object') return node;
  if (depth > MAX_DECODE_DEPTH)
    throw new SyntaxError(`tsession: encoded value nested more than ${MAX_DECODE_DEPTH} levels`);
  if (Array.isArray(node)) return node.map((item) => fromJson(item, depth + 1));
  const record = node as Record<string, unknown>;
  const keys = Object.keys(record);
  const tag = keys.length === 1 ? keys[0] : undefined;
  if (tag?.startsWith('$')) return decodeTagged(tag, record[tag], depth + 1);
  return decodePlainObject(record, depth + 1);
}

function decodeTagged(tag: string, payload: unknown, depth: number): unknown {
  const inner = (node: unknown) => fromJson(node, depth + 1);
  switch (tag) {
    case TAG.date:
      return new Date(payload === null ? Number.NaN : String(payload));
    case TAG.map:
      return new Map((payload as [unknown, unknown][]).map(([k, v]) => [inner(k), inner(v)]));
    case TAG.set:
      return new Set((payload as unknown[]).map(inner));
    case TAG.bigint:
      return BigInt(String(payload));
    case TAG.undefined:
      return undefined;
    case TAG.number:
      return payload === '-0' ? -0 : Number(payload);
    case TAG.object:
      return decodePlainObject(payload as Record<string, unknown>, depth + 1);
    default:
      throw new SyntaxError(`tsession: unknown codec tag ${JSON.stringify(tag)}`);
  }
}

function decodePlainObject(record: Record<string, unknown>, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(record)) defineData(out, key, fromJson(record[key], depth + 1));
  return out;
}

/** Sets an own data property, even for `__proto__`, without ever touching a prototype. */
function defineData(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[key] = value;
  }
}
