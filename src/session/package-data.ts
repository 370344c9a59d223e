import type { SessionCodec } from '../codec/codec.js';
import { entryBytes, incrementError } from '../stores/record.js';
import type { EntryWrite, StoredEntry } from '../stores/types.js';
import { checkKey } from './names.js';

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
  /** True when the store adds increments itself (`SessionDataContainer.mergesIncrements`). */
  readonly mergesIncrements: boolean;
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
  /** Increments the store adds at commit, by key (see {@link increment}); made on first use only. */
  #increments: Map<string, number> | undefined;

  /** @internal Made by `Session`; apps get instances from `session.get()`. */
  static create<T extends object>(
    pkg: string,
    entries: readonly StoredEntry[],
    codec: SessionCodec,
    guard: PackageGuard,
  ): PackageData<T> {
    return new PackageData<T>(pkg, entries, codec, guard);
  }

  // Private for the same reason as Session's: the declarations must say that apps cannot make one.
  private constructor(pkg: string, entries: readonly StoredEntry[], codec: SessionCodec, guard: PackageGuard) {
    this.pkg = pkg;
    this.#codec = codec;
    this.#guard = guard;
    for (const entry of entries) {
      this.#originals.set(entry.key, { encoded: entry.value, version: entry.version });
      this.#values.set(entry.key, NOT_DECODED);
    }
  }

  /** The value under `key`, or undefined. Objects returned may be mutated in place; the change is saved. */
  get<K extends keyof T & string>(key: K): T[K] | undefined {
    checkKey(key);
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
    this.#increments?.delete(key);
    this.#values.set(key, value);
    this.#exposed.add(key);
    return this;
  }

  /**
   * Adds `by` (a safe integer, may be negative) to the integer under `key` (absent: 0) and
   * returns this request's view of the sum. Commutative: the store adds it atomically at
   * commit to whatever the key holds then, so concurrent increments of one key never
   * conflict and none is lost, and the handler never re-runs for them. The increment is
   * not checked against other requests' writes, even when the key was read. After a
   * `set` or `delete` of the key in the same request, it adds to that value instead.
   * On a store without `capabilities.increments` (or a codec that does not write
   * integers as JSON does) it is a checked read-modify-write, which may conflict.
   * @throws SessionStateError when `by` or the value held is not a safe integer.
   */
  increment<K extends keyof T & string>(key: K, by = 1): number {
    this.#guard.assertWritable();
    checkKey(key);
    const current = this.#values.has(key) ? this.#value(key) : 0;
    const sum = (current as number) + by;
    if (!Number.isSafeInteger(by) || !Number.isSafeInteger(current) || !Number.isSafeInteger(sum)) {
      throw incrementError(
        { pkg: this.pkg, key },
        Number.isSafeInteger(current) ? 'the amount and the sum must be safe integers' : 'the value is not an integer',
      );
    }
    if (!this.#values.has(key)) this.#guard.beforeNewKey(this.pkg, this.#values.size);
    const pending = this.#increments?.get(key);
    this.#values.set(key, sum);
    if (pending !== undefined || (this.#guard.mergesIncrements && !this.#assigned(key))) {
      (this.#increments ??= new Map()).set(key, (pending ?? 0) + by);
    } else {
      // A plain write of the sum; checked against the store's version when the value came from it.
      if (!this.#assigned(key)) this.#read.add(key);
      this.#exposed.add(key);
    }
    return sum;
  }

  /** True when this request gave `key` a value of its own (set or deleted it), so the store's value no longer counts. */
  #assigned(key: string): boolean {
    if (!this.#exposed.has(key)) return false;
    const original = this.#originals.get(key);
    if (original === undefined || !this.#values.has(key)) return true;
    const value = this.#values.get(key);
    return value !== NOT_DECODED && !('decoded' in original && Object.is(value, original.decoded));
  }

  /** True when `key` has a value. */
  has(key: keyof T & string): boolean {
    this.#read.add(key);
    return this.#values.has(key);
  }

  /** Removes `key`; false when it was not there. */
  delete(key: keyof T & string): boolean {
    this.#guard.assertWritable();
    this.#increments?.delete(key);
    this.#exposed.add(key);
    return this.#values.delete(key);
  }

  /** Removes every key of this package. */
  clear(): void {
    this.#guard.assertWritable();
    this.#increments?.clear();
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
    const increments = this.#increments;
    for (const [key, original] of this.#originals) {
      if (!this.#exposed.has(key) && this.#values.has(key) && !increments?.has(key))
        byteSize += entryBytes(this.pkg, key, original.encoded);
    }
    if (increments !== undefined) byteSize += this.#collectIncrements(increments, writes);
    for (const key of this.#exposed) {
      if (increments?.has(key)) continue;
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

  /** The writes of pending increments: the amount for the store, and this request's view of the sum as the value. */
  #collectIncrements(increments: ReadonlyMap<string, number>, writes: EntryWrite[]): number {
    let byteSize = 0;
    for (const [key, add] of increments) {
      const value = this.#codec.encode(this.#values.get(key), [this.pkg, key]);
      byteSize += entryBytes(this.pkg, key, value);
      writes.push({ pkg: this.pkg, key, value, add });
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
    return original?.encoded === encoded ? SAME : encoded;
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
