import type { SessionCodec } from '../codec/codec.js';
import { entryBytes } from '../stores/record.js';
import type { EntryWrite, StoredEntry } from '../stores/types.js';
import type { PackageDefinition } from './package-definition.js';

/** A loaded entry: its stored encoding and version, and the value it decoded to, once read. */
interface Original {
  readonly encoded: string;
  readonly version: number;
  decoded?: unknown;
}

/** What a package's data asks of the session that holds it before it changes. */
export interface PackageGuard {
  /** Throws when the session may no longer change (committed, invalidated). */
  assertWritable(): void;
  /** Throws when adding a key to a package holding `size` keys would pass a limit. */
  beforeNewKey(pkg: string, size: number): void;
}

/**
 * A Map-like view of one package's keys in one client's session (Zope's
 * ISessionPkgData). Synchronous once loaded. Writes, deletes and in-place mutations
 * of values read from it are committed at the end of the request.
 *
 * @typeParam T the package's shape, from the augmented `SessionPackages` interface.
 */
export class PackageData<T extends object = Record<string, unknown>>
  implements Iterable<[keyof T & string, T[keyof T]]>
{
  /** The package id. */
  readonly pkg: string;
  readonly #originals = new Map<string, Original>();
  readonly #values = new Map<string, unknown>();
  /** Keys whose value may differ from the stored one: written, or handed out (and so mutable in place). */
  readonly #exposed = new Set<string>();
  /** Keys whose stored value this request depended on: their versions are checked at commit. */
  readonly #read = new Set<string>();
  readonly #codec: SessionCodec;
  readonly #guard: PackageGuard;
  /** The package's schemas, when it was declared with `definePackage`. */
  readonly #definition: PackageDefinition | undefined;

  /**
   * @internal Made by `Session`; apps get instances from `session.get()`. With a definition,
   * the stored values are decoded and validated now, by its `onInvalid` policy (it throws
   * `SessionValidationError` under `'fail'`).
   */
  static create<T extends object>(
    pkg: string,
    entries: readonly StoredEntry[],
    codec: SessionCodec,
    guard: PackageGuard,
    definition?: PackageDefinition,
  ): PackageData<T> {
    return new PackageData<T>(pkg, entries, codec, guard, definition);
  }

  // Private for the same reason as Session's: the declarations must say that apps cannot make one.
  private constructor(
    pkg: string,
    entries: readonly StoredEntry[],
    codec: SessionCodec,
    guard: PackageGuard,
    definition: PackageDefinition | undefined,
  ) {
    this.pkg = pkg;
    this.#codec = codec;
    this.#guard = guard;
    this.#definition = definition;
    for (const entry of entries) {
      this.#originals.set(entry.key, { encoded: entry.value, version: entry.version });
      this.#values.set(entry.key, NOT_DECODED);
    }
    if (definition !== undefined) this.#validateStored(definition);
  }

  /**
   * Validates every stored value (decoding it) so that `has`, `size` and `keys` agree with
   * `get` from the start. A dropped key is deleted at commit, expecting the version read:
   * if a concurrent request rewrote it meanwhile, the commit conflicts instead of deleting that.
   */
  #validateStored(definition: PackageDefinition): void {
    for (const [key, original] of this.#originals) {
      const decoded = this.#codec.decode(original.encoded);
      original.decoded = decoded;
      const checked = definition.checkStored(key, decoded);
      if (checked !== undefined) {
        this.#values.set(key, checked.value);
        continue;
      }
      this.#values.delete(key);
      this.#exposed.add(key);
      this.#read.add(key);
    }
  }

  /** The value under `key`, or undefined. Objects returned may be mutated in place; the change is saved. */
  get<K extends keyof T & string>(key: K): T[K] | undefined {
    this.#read.add(key);
    if (!this.#values.has(key)) return undefined;
    this.#exposed.add(key);
    return this.#value(key) as T[K];
  }

  /** Stores `value` under `key`. */
  set<K extends keyof T & string>(key: K, value: T[K]): this {
    this.#guard.assertWritable();
    checkKey(key);
    if (!this.#values.has(key)) this.#guard.beforeNewKey(this.pkg, this.#values.size);
    this.#values.set(key, value);
    this.#exposed.add(key);
    return this;
  }

  /** True when `key` has a value. */
  has(key: keyof T & string): boolean {
    this.#read.add(key);
    return this.#values.has(key);
  }

  /** Removes `key`; false when it was not there. */
  delete(key: keyof T & string): boolean {
    this.#guard.assertWritable();
    this.#exposed.add(key);
    return this.#values.delete(key);
  }

  /** Removes every key of this package. */
  clear(): void {
    this.#guard.assertWritable();
    for (const key of this.#values.keys()) this.#exposed.add(key);
    this.#values.clear();
  }

  /** How many keys the package holds. */
  get size(): number {
    this.#readAll();
    return this.#values.size;
  }

  /** The keys, in insertion order (stored keys first). */
  keys(): IterableIterator<keyof T & string> {
    this.#readAll();
    return this.#values.keys() as IterableIterator<keyof T & string>;
  }

  /** The values; objects among them may be mutated in place. */
  *values(): IterableIterator<T[keyof T]> {
    for (const [, value] of this.entries()) yield value;
  }

  /** `[key, value]` pairs; objects among the values may be mutated in place. */
  *entries(): IterableIterator<[keyof T & string, T[keyof T]]> {
    this.#readAll();
    for (const key of [...this.#values.keys()]) {
      this.#exposed.add(key);
      yield [key as keyof T & string, this.#value(key) as T[keyof T]];
    }
  }

  [Symbol.iterator](): IterableIterator<[keyof T & string, T[keyof T]]> {
    return this.entries();
  }

  /** A plain-object copy of the package's data, e.g. for a template or a JSON response. */
  toJSON(): Partial<T> {
    return Object.fromEntries(this.entries()) as Partial<T>;
  }

  /**
   * @internal Appends to `writes` the entry writes this package needs: every exposed key
   * whose encoding differs from the stored one. Returns the UTF-8 bytes of package id,
   * keys and encoded values the package holds after them (`entryBytes`). Throws
   * `SessionSerializationError` for a value the codec refuses.
   */
  collectChanges(writes: EntryWrite[]): number {
    let byteSize = 0;
    for (const [key, original] of this.#originals) {
      if (!this.#exposed.has(key) && this.#values.has(key)) byteSize += entryBytes(this.pkg, key, original.encoded);
    }
    for (const key of this.#exposed) {
      const encoded = this.#values.has(key) ? this.#encodeIfChanged(key) : undefined;
      const original = this.#originals.get(key);
      if (encoded !== undefined)
        byteSize += entryBytes(this.pkg, key, encoded === SAME ? (original as Original).encoded : encoded);
      if (encoded === SAME || (encoded === undefined && original === undefined)) continue;
      const expectVersion = this.#read.has(key) ? (original?.version ?? 0) : undefined;
      writes.push({
        pkg: this.pkg,
        key,
        value: encoded,
        ...(expectVersion !== undefined && { expectVersion }),
      });
    }
    return byteSize;
  }

  /** @internal Every key and encoded value, for moving the data to a new id (regenerate). */
  snapshot(): EntryWrite[] {
    const writes: EntryWrite[] = [];
    for (const key of this.#values.keys()) {
      const encoded = this.#encodeIfChanged(key);
      writes.push({
        pkg: this.pkg,
        key,
        value: encoded === SAME ? (this.#originals.get(key) as Original).encoded : encoded,
      });
    }
    return writes;
  }

  #value(key: string): unknown {
    const value = this.#values.get(key);
    if (value !== NOT_DECODED) return value;
    const original = this.#originals.get(key) as Original;
    original.decoded = this.#codec.decode(original.encoded);
    this.#values.set(key, original.decoded);
    return original.decoded;
  }

  #encodeIfChanged(key: string): string | typeof SAME {
    const value = this.#values.get(key);
    const original = this.#originals.get(key);
    if (value === NOT_DECODED) return SAME;
    if (original && 'decoded' in original && isPrimitive(value) && Object.is(original.decoded, value)) return SAME;
    const encoded = this.#codec.encode(value, [this.pkg, key]);
    if (original?.encoded === encoded) return SAME;
    // Validated only when it changed: an unchanged value is the stored one, validated when the package opened.
    return this.#definition === undefined ? encoded : this.#validatedEncoding(key, value, encoded, original);
  }

  /** The encoding to store for a changed value of a validated package: its schema's output's. */
  #validatedEncoding(
    key: string,
    value: unknown,
    encoded: string,
    original: Original | undefined,
  ): string | typeof SAME {
    const output = (this.#definition as PackageDefinition).check(key, value);
    if (output === value) return encoded;
    const reencoded = this.#codec.encode(output, [this.pkg, key]);
    return original?.encoded === reencoded ? SAME : reencoded;
  }

  #readAll(): void {
    for (const key of this.#values.keys()) this.#read.add(key);
  }
}

/** Marks a stored value not decoded yet: values are decoded on first read. */
const NOT_DECODED = Symbol('not decoded');
/** What `#encodeIfChanged` returns for a value equal to the stored one. */
const SAME = Symbol('unchanged');

function isPrimitive(value: unknown): boolean {
  return value === null || (typeof value !== 'object' && typeof value !== 'function');
}

/** @internal Throws `TypeError` for a key that is not a string without NUL. */
export function checkKey(key: unknown): void {
  if (typeof key !== 'string' || key.includes('\0')) {
    throw new TypeError(`tsession: package data keys must be strings without NUL characters, got ${String(key)}`);
  }
}
