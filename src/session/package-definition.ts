import { SessionConfigError, SessionValidationError, type ValidationIssue } from '../errors.js';

/**
 * The Standard Schema interface (https://standardschema.dev, version 1), the part tsession
 * uses: zod (3.24+, 4), valibot (1), arktype (2) and others implement it, so none of them
 * is a dependency of tsession.
 */
export interface StandardSchema<Input = unknown, Output = Input> {
  readonly '~standard': StandardSchemaProps<Input, Output>;
}

/** The `~standard` property of a {@link StandardSchema}. */
export interface StandardSchemaProps<Input = unknown, Output = Input> {
  readonly version: 1;
  readonly vendor: string;
  readonly validate: (value: unknown) => StandardResult<Output> | Promise<StandardResult<Output>>;
  /** Present for type inference only. */
  readonly types?: { readonly input: Input; readonly output: Output } | undefined;
}

/** What a Standard Schema's `validate` gives: the (possibly transformed) value, or issues. */
export type StandardResult<Output> =
  | { readonly value: Output; readonly issues?: undefined }
  | { readonly issues: readonly StandardIssue[] };

/** One problem a Standard Schema found. */
export interface StandardIssue {
  readonly message: string;
  readonly path?: readonly (PropertyKey | { readonly key: PropertyKey })[] | undefined;
}

/** The type a schema's successful validation gives. */
export type InferOutput<S extends StandardSchema> = NonNullable<S['~standard']['types']>['output'];

/** A package's keys and the schema of each one's value. */
export type PackageKeySchemas = Readonly<Record<string, StandardSchema>>;

/** The data shape of a package declared with these key schemas: each key's value is its schema's output. */
export type ShapeOfKeys<S extends PackageKeySchemas> = { -readonly [K in keyof S]: InferOutput<S[K]> };

/** A stored value that no longer validates, as an {@link InvalidPolicy} function is told about it. */
export interface InvalidStoredValue {
  /** The package id. */
  readonly pkg: string;
  /** The key, perhaps one the definition no longer declares. */
  readonly key: string;
  /** The value as stored (decoded by the container's codec). */
  readonly value: unknown;
  /** What the key's schema found; for an undeclared key, one issue saying so. */
  readonly issues: readonly ValidationIssue[];
}

/**
 * What happens to a stored value that no longer validates (a deploy changed the schema):
 * `'drop'` treats the key as absent and deletes it at this request's commit (version-checked,
 * so a valid value a concurrent request wrote meanwhile is not lost); `'fail'` throws
 * {@link SessionValidationError} (500) from the `session.get()` that opened the package.
 * A function decides per value, and is the place to log or count them.
 */
export type InvalidPolicy = 'drop' | 'fail' | ((invalid: InvalidStoredValue) => 'drop' | 'fail');

/** Options of {@link definePackage}. */
export interface PackageDefinitionOptions {
  /** See {@link InvalidPolicy}. @default 'drop' */
  onInvalid?: InvalidPolicy;
}

/** The result of validating one stored value: the value to hand out, or the issues. */
type StoredCheck =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly issues: readonly ValidationIssue[] };

/**
 * A package declared with a schema per key, made by {@link definePackage}. Give it to the
 * manager (`new SessionManager({ packages: [cart] })`) and use it where a package id goes:
 * `session.get(cart)` is typed from the schemas.
 *
 * @typeParam P the package id
 * @typeParam T the package's data shape, inferred from the schemas
 */
export class PackageDefinition<P extends string = string, T extends object = object> {
  /** The package id. */
  readonly id: P;
  /** The schema of each key's value. */
  readonly keys: PackageKeySchemas;
  /** See {@link InvalidPolicy}. */
  readonly onInvalid: InvalidPolicy;
  /** Carries the data shape for type inference only; never set. */
  declare readonly shape?: T;

  private constructor(id: P, keys: PackageKeySchemas, onInvalid: InvalidPolicy) {
    this.id = id;
    this.keys = keys;
    this.onInvalid = onInvalid;
  }

  /** @internal Made by {@link definePackage}, which checks its arguments. */
  static create<P extends string, T extends object>(
    id: P,
    keys: PackageKeySchemas,
    onInvalid: InvalidPolicy,
  ): PackageDefinition<P, T> {
    return new PackageDefinition<P, T>(id, keys, onInvalid);
  }

  /**
   * @internal The value to store for `key`: the schema's output for `value`. Throws
   * `SessionValidationError` for an invalid value, an undeclared key or an async schema.
   */
  check(key: string, value: unknown): unknown {
    const result = this.#validate(key, value);
    if (result.ok) return result.value;
    throw new SessionValidationError(this.id, key, result.issues, false);
  }

  /**
   * @internal The value to hand out for a stored one, or undefined when the policy drops it.
   * Throws `SessionValidationError` when the policy is to fail.
   */
  checkStored(key: string, value: unknown): { readonly value: unknown } | undefined {
    const result = this.#validate(key, value);
    if (result.ok) return result;
    const policy =
      typeof this.onInvalid === 'function'
        ? this.onInvalid({ pkg: this.id, key, value, issues: result.issues })
        : this.onInvalid;
    if (policy === 'fail') throw new SessionValidationError(this.id, key, result.issues, true);
    return undefined;
  }

  #validate(key: string, value: unknown): StoredCheck {
    const schema = Object.hasOwn(this.keys, key) ? this.keys[key] : undefined;
    if (schema === undefined)
      return { ok: false, issues: [{ message: 'the key is not declared in the package definition', path: [] }] };
    const result = schema['~standard'].validate(value);
    if (isThenable(result)) {
      // Nobody awaits it: keep a rejected promise from surfacing as an unhandled rejection.
      if (result instanceof Promise) result.catch(() => {});
      return { ok: false, issues: [{ message: ASYNC_SCHEMA, path: [] }] };
    }
    return result.issues === undefined
      ? { ok: true, value: result.value }
      : { ok: false, issues: result.issues.map(toIssue) };
  }
}

/**
 * Why async schemas are refused: values are checked inside `commit()` (which stays synchronous
 * for a request with nothing to write) and when a package opens, whose reads are synchronous.
 */
const ASYNC_SCHEMA =
  'the schema validated asynchronously; tsession validates synchronously (at commit and when a package opens): use a synchronous schema';

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function';
}

function toIssue(issue: StandardIssue): ValidationIssue {
  // Array.from, not path.map: a library's path may be an Array subclass whose species constructor
  // takes other arguments (arktype's turns map's length into an element).
  const path = Array.from(issue.path ?? [], (segment) => {
    const key = typeof segment === 'object' ? segment.key : segment;
    return typeof key === 'symbol' ? String(key) : key;
  });
  return { message: issue.message, path };
}

/**
 * Declares a package whose values are validated, with a Standard Schema (zod, valibot,
 * arktype, ...) per key. Its data type is inferred from the schemas, so it needs no
 * `declare module`. Values are validated before commit (what is stored is each schema's
 * output, e.g. zod's objects without unknown keys), and stored values are validated when the
 * package opens, by the `onInvalid` policy. Schemas must validate synchronously.
 *
 * @param id the package id
 * @param keys the schema of each key's value; a key not declared here is refused at commit
 * @param options `onInvalid`, @default 'drop'
 * @throws SessionConfigError when a schema does not implement Standard Schema
 * @example
 * ```ts
 * import { z } from 'zod';
 * export const cart = definePackage('shop.cart', { items: z.array(z.string()), coupon: z.string() });
 * const manager = new SessionManager({ clientIds, container, packages: [cart] });
 * // in a handler:
 * const data = await session.get(cart); // PackageData<{ items: string[]; coupon: string }>
 * ```
 */
export function definePackage<const P extends string, S extends PackageKeySchemas>(
  id: P,
  keys: S,
  options: PackageDefinitionOptions = {},
): PackageDefinition<P, ShapeOfKeys<S>> {
  if (typeof id !== 'string' || id.length === 0)
    throw new SessionConfigError('definePackage: the package id must be a non-empty string');
  if (typeof keys !== 'object' || keys === null)
    throw new SessionConfigError(`definePackage('${id}'): give an object of a schema per key`);
  for (const [key, schema] of Object.entries(keys)) {
    if (typeof schema?.['~standard']?.validate !== 'function') {
      throw new SessionConfigError(
        `definePackage('${id}'): the schema of '${key}' does not implement Standard Schema (no ~standard.validate)`,
      );
    }
  }
  const onInvalid = options.onInvalid ?? 'drop';
  if (onInvalid !== 'drop' && onInvalid !== 'fail' && typeof onInvalid !== 'function') {
    throw new SessionConfigError(`definePackage('${id}'): \`onInvalid\` must be 'drop', 'fail' or a function`);
  }
  return PackageDefinition.create<P, ShapeOfKeys<S>>(id, { ...keys }, onInvalid);
}
