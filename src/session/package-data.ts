import type { SessionCodec } from '../codec/codec.js';
import { entryBytes, incrementError } from '../stores/record.js';
import type { EntryWrite, StoredEntry } from '../stores/types.js';
import { checkKey } from './names.js';
import type { PackageDefinition } from './package-definition.js';

/**
 * Everything one key of a package knows in one request: its stored encoding and version
 * (when it was loaded), the value the app sees (or {@link ABSENT}), and whether the app
 * read it (its version is then checked at commit) or was handed it (it may have been
 * mutated in place, so it is re-encoded at commit). One object per key, in one Map:
 * a read-only request allocates a slot per key it touches, not four collections.
 */
interface Slot {
  /** The stored encoding, when the key was loaded. */
  readonly encoded: string | undefined;
  /** The stored version (0 when the key was not stored). */
  readonly version: number;
  /** The stored encoding's decoded value, once decoded. */
  decoded: unknown;
  /** The value the app sees: the decoded stored one, one it set, or ABSENT. */
  value: unknown;
  /** The app depended on the stored value (get, has, iteration): its version is checked at commit. */
  read: boolean;
  /** The value may differ from the stored one: written, deleted, or handed out (and so mutable in place). */
  exposed: boolean;
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
  /** Every key touched or loaded, in the order a Map of the present keys would have them (stored first). */
  readonly #slots = new Map<string, Slot>();
  /** Keys with a value. */
  #size = 0;
  readonly #codec: SessionCodec;
  readonly #guard: PackageGuard;
  /** Increments the store adds at commit, by key (see {@link increment}); made on first use only. */
  #increments: Map<string, number> | undefined;
  /** The package's schemas, when it was declared with `definePackage`. */
  readonly #definition: PackageDefinition | undefined;

  /**
   * @internal Made by `Session`; apps get instances from `session.get()`, from the record's
   * entries (those of other packages are skipped). With a definition, the stored values are
   * decoded and validated now, by its `onInvalid` policy (it throws `SessionValidationError`
   * under `'fail'`).
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
      if (entry.pkg !== pkg) continue;
      this.#slots.set(entry.key, {
        encoded: entry.value,
        version: entry.version,
        decoded: NOT_DECODED,
        value: NOT_DECODED,
        read: false,
        exposed: false,
      });
    }
    this.#size = this.#slots.size;
    if (definition !== undefined) this.#validateStored(definition);
  }

  /**
   * Validates every stored value (decoding it) so that `has`, `size` and `keys` agree with
   * `get` from the start. A dropped key is deleted at commit, expecting the version read:
   * if a concurrent request rewrote it meanwhile, the commit conflicts instead of deleting that.
   */
  #validateStored(definition: PackageDefinition): void {
    for (const [key, slot] of this.#slots) {
      slot.decoded = this.#codec.decode(slot.encoded as string);
      const checked = definition.checkStored(key, slot.decoded);
      if (checked !== undefined) {
        slot.value = checked.value;
        continue;
      }
      slot.value = ABSENT;
      slot.exposed = true;
      slot.read = true;
      this.#size--;
    }
  }

  /** The value under `key`, or undefined. Objects returned may be mutated in place; the change is saved. */
  get<K extends keyof T & string>(key: K): T[K] | undefined {
    checkKey(key);
    const slot = this.#slot(key);
    slot.read = true;
    if (slot.value === ABSENT) return undefined;
    slot.exposed = true;
    return this.#value(slot) as T[K];
  }

  /** Stores `value` under `key`. */
  set<K extends keyof T & string>(key: K, value: T[K]): this {
    this.#guard.assertWritable();
    checkKey(key);
    let slot = this.#slots.get(key);
    if (slot === undefined || slot.value === ABSENT) {
      this.#guard.beforeNewKey(this.pkg, this.#size);
      // A key set again after a delete goes last, as in a Map.
      if (slot) this.#slots.delete(key);
      slot ??= newSlot();
      this.#slots.set(key, slot);
      this.#size++;
    }
    this.#increments?.delete(key);
    slot.value = value;
    slot.exposed = true;
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
    let slot = this.#slots.get(key);
    const present = slot !== undefined && slot.value !== ABSENT;
    const current = present ? this.#value(slot as Slot) : 0;
    const sum = (current as number) + by;
    if (!Number.isSafeInteger(by) || !Number.isSafeInteger(current) || !Number.isSafeInteger(sum)) {
      const why = Number.isSafeInteger(current)
        ? 'the amount and the sum must be safe integers'
        : 'the value is not an integer';
      throw incrementError({ pkg: this.pkg, key }, why);
    }
    const pending = this.#increments?.get(key);
    const assigned = slot !== undefined && pending === undefined && isAssigned(slot);
    if (!present) {
      this.#guard.beforeNewKey(this.pkg, this.#size);
      if (slot) this.#slots.delete(key);
      slot = newSlot();
      this.#slots.set(key, slot);
      this.#size++;
    }
    (slot as Slot).value = sum;
    if (pending !== undefined || (this.#guard.mergesIncrements && !assigned)) {
      (this.#increments ??= new Map()).set(key, (pending ?? 0) + by);
    } else {
      // A plain write of the sum, checked against the stored version unless this request assigned the key.
      if (!assigned) (slot as Slot).read = true;
      (slot as Slot).exposed = true;
    }
    return sum;
  }

  /** True when `key` has a value. */
  has(key: keyof T & string): boolean {
    const slot = this.#slot(key);
    slot.read = true;
    return slot.value !== ABSENT;
  }

  /** Removes `key`; false when it was not there. */
  delete(key: keyof T & string): boolean {
    this.#guard.assertWritable();
    this.#increments?.delete(key);
    const slot = this.#slot(key);
    slot.exposed = true;
    if (slot.value === ABSENT) return false;
    slot.value = ABSENT;
    this.#size--;
    return true;
  }

  /** Removes every key of this package. */
  clear(): void {
    this.#guard.assertWritable();
    this.#increments = undefined;
    for (const slot of this.#slots.values()) {
      if (slot.value === ABSENT) continue;
      slot.exposed = true;
      slot.value = ABSENT;
    }
    this.#size = 0;
  }

  /** How many keys the package holds. */
  get size(): number {
    this.#readAll();
    return this.#size;
  }

  /** The keys, in insertion order (stored keys first). */
  keys(): IterableIterator<keyof T & string> {
    this.#readAll();
    return this.#presentKeys().values() as IterableIterator<keyof T & string>;
  }

  /** The values; objects among them may be mutated in place. */
  *values(): IterableIterator<T[keyof T]> {
    for (const [, value] of this.entries()) yield value;
  }

  /** `[key, value]` pairs; objects among the values may be mutated in place. */
  *entries(): IterableIterator<[keyof T & string, T[keyof T]]> {
    this.#readAll();
    for (const key of this.#presentKeys()) {
      const slot = this.#slots.get(key) as Slot;
      if (slot.value === ABSENT) continue;
      slot.exposed = true;
      yield [key as keyof T & string, this.#value(slot) as T[keyof T]];
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
    for (const [key, slot] of this.#slots) {
      const add = increments?.get(key);
      if (add !== undefined) {
        // The amount for the store to add; the value is this request's view of the sum, held to
        // the package's schema like any write (the store's sum may differ: others add too).
        this.#definition?.check(key, slot.value);
        const value = this.#codec.encode(slot.value, [this.pkg, key]);
        byteSize += entryBytes(this.pkg, key, value);
        writes.push({ pkg: this.pkg, key, value, add });
        continue;
      }
      if (!slot.exposed) {
        if (slot.value !== ABSENT) byteSize += entryBytes(this.pkg, key, slot.encoded as string);
        continue;
      }
      const encoded = slot.value === ABSENT ? undefined : this.#encodeIfChanged(key, slot);
      if (encoded !== undefined)
        byteSize += entryBytes(this.pkg, key, encoded === SAME ? (slot.encoded as string) : encoded);
      if (encoded === SAME || (encoded === undefined && slot.encoded === undefined)) continue;
      const expectVersion = slot.read ? slot.version : undefined;
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
    for (const [key, slot] of this.#slots) {
      if (slot.value === ABSENT) continue;
      const encoded = this.#encodeIfChanged(key, slot);
      writes.push({ pkg: this.pkg, key, value: encoded === SAME ? (slot.encoded as string) : encoded });
    }
    return writes;
  }

  /** The slot of `key`, made (with no value) on first touch. */
  #slot(key: string): Slot {
    let slot = this.#slots.get(key);
    if (slot === undefined) {
      slot = newSlot();
      this.#slots.set(key, slot);
    }
    return slot;
  }

  #value(slot: Slot): unknown {
    if (slot.value !== NOT_DECODED) return slot.value;
    slot.decoded = this.#codec.decode(slot.encoded as string);
    slot.value = slot.decoded;
    return slot.value;
  }

  #encodeIfChanged(key: string, slot: Slot): string | typeof SAME {
    const value = slot.value;
    if (value === NOT_DECODED) return SAME;
    if (slot.decoded !== NOT_DECODED && isPrimitive(value) && Object.is(slot.decoded, value)) return SAME;
    const encoded = this.#codec.encode(value, [this.pkg, key]);
    if (slot.encoded === encoded) return SAME;
    // Validated only when it changed: an unchanged value is the stored one, validated when the package opened.
    return this.#definition === undefined ? encoded : this.#validatedEncoding(key, value, encoded, slot);
  }

  /** The encoding to store for a changed value of a validated package: its schema's output's. */
  #validatedEncoding(key: string, value: unknown, encoded: string, slot: Slot): string | typeof SAME {
    const output = (this.#definition as PackageDefinition).check(key, value);
    if (output === value) return encoded;
    const reencoded = this.#codec.encode(output, [this.pkg, key]);
    return slot.encoded === reencoded ? SAME : reencoded;
  }

  #presentKeys(): string[] {
    const keys: string[] = [];
    for (const [key, slot] of this.#slots) if (slot.value !== ABSENT) keys.push(key);
    return keys;
  }

  #readAll(): void {
    for (const slot of this.#slots.values()) if (slot.value !== ABSENT) slot.read = true;
  }
}

/** True when this request gave the key a value of its own (set or deleted it), so the stored value no longer counts. */
function isAssigned(slot: Slot): boolean {
  if (!slot.exposed) return false;
  if (slot.encoded === undefined || slot.value === ABSENT) return true;
  return slot.value !== NOT_DECODED && !(slot.decoded !== NOT_DECODED && Object.is(slot.value, slot.decoded));
}

function newSlot(): Slot {
  return { encoded: undefined, version: 0, decoded: NOT_DECODED, value: ABSENT, read: false, exposed: false };
}

/** Marks a stored value not decoded yet: values are decoded on first read. */
const NOT_DECODED = Symbol('not decoded');
/** Marks a key without a value: never stored, deleted, or cleared. */
const ABSENT = Symbol('absent');
/** What `#encodeIfChanged` returns for a value equal to the stored one. */
const SAME = Symbol('unchanged');

function isPrimitive(value: unknown): boolean {
  return value === null || (typeof value !== 'object' && typeof value !== 'function');
}
