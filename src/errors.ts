/**
 * The typed errors tsession throws. Each has a stable `code` that adapters and
 * apps can switch on; messages say what went wrong and how to fix it.
 *
 * @module
 */

/** Every stable error code tsession uses. */
export type SessionErrorCode =
  | 'TSESSION_CONFIG'
  | 'TSESSION_MISSING_CLIENT_ID'
  | 'TSESSION_SERIALIZATION'
  | 'TSESSION_VALIDATION'
  | 'TSESSION_TOO_LARGE'
  | 'TSESSION_CONFLICT'
  | 'TSESSION_LIMIT'
  | 'TSESSION_STORE_UNAVAILABLE'
  | 'TSESSION_STORE_UNSUPPORTED'
  | 'TSESSION_STATE';

/** Base class of tsession's errors (except {@link SessionSerializationError}, a `TypeError`). */
export class SessionError extends Error {
  /** A stable, machine-readable code. */
  readonly code: SessionErrorCode;
  /** The HTTP status an adapter answers with when the app does not handle the error. */
  readonly status: number;

  constructor(code: SessionErrorCode, status: number, message: string, options?: ErrorOptions) {
    super(`tsession: ${message}`, options);
    this.name = new.target.name;
    this.code = code;
    this.status = status;
  }
}

/**
 * An option passed to a factory or constructor is missing or invalid. Thrown at construction, never
 * per request, except for a package definition used with a manager it was not given to.
 */
export class SessionConfigError extends SessionError {
  constructor(message: string) {
    super('TSESSION_CONFIG', 500, message);
  }
}

/**
 * The request needs a client id but may not be given one: a GET under `postOnly`,
 * or any request without an id under `thirdParty`.
 */
export class MissingClientIdError extends SessionError {
  constructor(message: string) {
    super('TSESSION_MISSING_CLIENT_ID', 400, message);
  }
}

/**
 * A session value cannot be serialized by the codec. A `TypeError`, since the value
 * has the wrong type; `path` names where it is, e.g. `['products.foo', 'oops', 'handle']`.
 */
export class SessionSerializationError extends TypeError {
  readonly code = 'TSESSION_SERIALIZATION' as const;
  readonly status = 500;
  /** Package id, key, then the path inside the value. */
  readonly path: readonly (string | number)[];

  constructor(path: readonly (string | number)[], reason: string, options?: ErrorOptions) {
    super(`tsession: cannot serialize ${path.join(' › ')}: ${reason}`, options);
    this.name = 'SessionSerializationError';
    this.path = path;
  }
}

/** One problem a package's schema found in a value: what, and where inside the value. */
export interface ValidationIssue {
  readonly message: string;
  /** The path inside the value, e.g. `['items', 0]`; empty for the value itself. */
  readonly path: readonly (string | number)[];
}

/**
 * A value of a validated package (`definePackage`) does not pass its key's schema: thrown by
 * `commit()` before anything is written (`stored` false), or, under the `'fail'` policy, by
 * the `session.get()` that opened a package whose stored value no longer validates (`stored`
 * true). `path` is package id, key, then the path inside the value of the first issue.
 */
export class SessionValidationError extends SessionError {
  /** Package id, key, then the path inside the value (of the first issue). */
  readonly path: readonly (string | number)[];
  /** Every issue the schema found. */
  readonly issues: readonly ValidationIssue[];
  /** True when the value is one read from the store, false for one this request would write. */
  readonly stored: boolean;

  constructor(pkg: string, key: string, issues: readonly ValidationIssue[], stored: boolean) {
    const path = [pkg, key, ...(issues[0]?.path ?? [])];
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
    const what = stored
      ? `the stored value at ${path.join(' › ')} no longer validates`
      : `the value at ${path.join(' › ')} is invalid; nothing was written`;
    super('TSESSION_VALIDATION', 500, `${what}: ${issues[0]?.message ?? 'invalid'}${more}`);
    this.path = path;
    this.issues = issues;
    this.stored = stored;
  }
}

/**
 * A session would pass one of its container's caps: `maxSessionBytes` (thrown at commit,
 * nothing written), `maxKeysPerPackage` or `maxPackages` (thrown by the `set` that would
 * pass it). `what` says which.
 */
export class SessionTooLargeError extends SessionError {
  readonly size: number;
  readonly limit: number;
  /** What was counted: `bytes`, `packages`, or `keys in package <id>`. */
  readonly what: string;

  constructor(size: number, limit: number, what = 'bytes') {
    const option = what === 'bytes' ? 'maxSessionBytes' : what === 'packages' ? 'maxPackages' : 'maxKeysPerPackage';
    super(
      'TSESSION_TOO_LARGE',
      500,
      `the session would hold ${size} ${what}, over the container's limit of ${limit}; store less in the session or raise ${option}`,
    );
    this.what = what;
    this.size = size;
    this.limit = limit;
  }
}

/** Why a commit conflicted. */
export type ConflictReason =
  /** Another request changed a key this request read and then wrote. */
  | 'version'
  /** The session was invalidated, regenerated or expired after this request loaded it. */
  | 'gone'
  /** The session this request tried to create already exists. */
  | 'exists';

/**
 * A concurrent request committed first and this request's changes would silently
 * overwrite it. Nothing of this request was written; retrying the request with fresh
 * session state is safe when the handler is.
 */
export class ConflictError extends SessionError {
  readonly reason: ConflictReason;
  /** The `package › key` entries that conflicted, when the reason is `version`. */
  readonly keys: readonly string[];

  constructor(reason: ConflictReason, keys: readonly string[] = []) {
    super('TSESSION_CONFLICT', 409, conflictMessage(reason, keys));
    this.reason = reason;
    this.keys = keys;
  }
}

function conflictMessage(reason: ConflictReason, keys: readonly string[]): string {
  switch (reason) {
    case 'version':
      return `a concurrent request changed ${keys.join(', ')} after this request read it; nothing was written`;
    case 'gone':
      return 'the session was invalidated, regenerated or expired by a concurrent request; nothing was written';
    case 'exists':
      return 'a session with this id already exists; nothing was written';
  }
}

/** A container with a `limit` is full and its policy is `reject`. */
export class SessionLimitError extends SessionError {
  readonly limit: number;

  constructor(limit: number) {
    super(
      'TSESSION_LIMIT',
      503,
      `the session container is full (limit ${limit}); raise the limit or use the 'evict' policy`,
    );
    this.limit = limit;
  }
}

/** The store did not answer (down, timed out, refused). Nothing of the request was written. */
export class StoreUnavailableError extends SessionError {
  constructor(message: string, options?: ErrorOptions) {
    super('TSESSION_STORE_UNAVAILABLE', 503, message, options);
  }
}

/**
 * The store cannot do what was asked, by its nature rather than by a fault: listing its
 * records (`scan`, `count`, `sweep`) on a store whose `capabilities.listing` is false,
 * e.g. `ConnectStore` over connect-pg-simple or session-file-store, which have no usable
 * `all()`. Such a store expires its records by itself; export, `list` and the admin
 * listing need a store that can list.
 */
export class StoreUnsupportedError extends SessionError {
  constructor(message: string) {
    super('TSESSION_STORE_UNSUPPORTED', 501, message);
  }
}

/** The session was used in a way its lifecycle does not allow, e.g. written after commit. */
export class SessionStateError extends SessionError {
  constructor(message: string) {
    super('TSESSION_STATE', 500, message);
  }
}

/** Any error tsession throws on purpose, with its `code` and `status`. */
export type AnySessionError = SessionError | SessionSerializationError;

/** True for every error tsession throws on purpose. */
export function isSessionError(error: unknown): error is AnySessionError {
  return error instanceof SessionError || error instanceof SessionSerializationError;
}
