/**
 * The rules for the names a session stores data under: package ids and keys. One home
 * for them, so `Session`, `PackageData` and `importSessions` refuse exactly the same
 * names (SPEC 44).
 *
 * @module
 */

import { INTERNAL_PACKAGE } from '../stores/record.js';

/** The reserved package that holds tsession's own per-session data (defined with the stores' record rules). */
export { INTERNAL_PACKAGE };
/** The longest package id, in UTF-16 code units. */
export const MAX_PACKAGE_ID_LENGTH = 256;

/**
 * A package id or key that no store could keep faithfully: not a string, empty (package
 * ids), too long, with a NUL (SQLite and PostgreSQL text ends there, Redis fields use it
 * as a separator), or ill-formed Unicode (a lone surrogate, which SQLite and Redis store
 * as U+FFFD, so two names merge, and PostgreSQL refuses). A `TypeError`: the caller
 * passed a value of the wrong shape.
 */
export class SessionNameError extends TypeError {
  readonly code = 'TSESSION_NAME' as const;
  readonly status = 500;

  constructor(message: string) {
    super(`tsession: ${message}`);
    this.name = 'SessionNameError';
  }
}

/** Why `pkg` is not a usable package id, or undefined when it is one. The reserved package is refused. */
export function packageIdProblem(pkg: unknown): string | undefined {
  if (pkg === INTERNAL_PACKAGE) return `the package id ${INTERNAL_PACKAGE} is reserved`;
  if (typeof pkg !== 'string' || pkg.length === 0 || pkg.length > MAX_PACKAGE_ID_LENGTH) {
    return `a package id is a non-empty string of at most ${MAX_PACKAGE_ID_LENGTH} characters, got ${describe(pkg)}`;
  }
  return textProblem('package id', pkg);
}

/** Why `key` is not a usable key of package data, or undefined when it is one. */
export function keyProblem(key: unknown): string | undefined {
  if (typeof key !== 'string') return `package data keys must be strings, got ${describe(key)}`;
  return textProblem('package data key', key);
}

/** The longest principal (user id), in UTF-16 code units. */
export const MAX_PRINCIPAL_LENGTH = 256;

/** Throws {@link SessionNameError} unless `principal` is a user id a session may belong to (`session.setPrincipal`). */
export function checkPrincipal(principal: unknown): void {
  const problem =
    typeof principal !== 'string' || principal.length === 0 || principal.length > MAX_PRINCIPAL_LENGTH
      ? `a principal is a non-empty string of at most ${MAX_PRINCIPAL_LENGTH} characters, got ${describe(principal)}`
      : textProblem('principal', principal);
  if (problem !== undefined) throw new SessionNameError(problem);
}

/** Throws {@link SessionNameError} unless `pkg` is a package id an app may use. */
export function checkPackageId(pkg: unknown): void {
  const problem = packageIdProblem(pkg);
  if (problem !== undefined) throw new SessionNameError(problem);
}

/** Throws {@link SessionNameError} unless `key` is a key package data may hold. */
export function checkKey(key: unknown): void {
  const problem = keyProblem(key);
  if (problem !== undefined) throw new SessionNameError(problem);
}

function textProblem(what: string, text: string): string | undefined {
  if (text.includes('\0')) return `a ${what} must not contain NUL characters, got ${describe(text)}`;
  if (!isWellFormed(text)) return `a ${what} must be well-formed Unicode (no lone surrogates), got ${describe(text)}`;
  return undefined;
}

/** `String.prototype.isWellFormed` (Node 20; the compiler's ES2023 lib does not declare it yet). */
function isWellFormed(text: string): boolean {
  return (text as string & { isWellFormed(): boolean }).isWellFormed();
}

/** The value for a message: JSON escapes NUL and lone surrogates, so the message itself stays well-formed. */
function describe(value: unknown): string {
  if (typeof value !== 'string') return typeof value === 'symbol' ? value.toString() : String(value);
  const shown = value.length > 40 ? `${value.slice(0, 40)}…` : value;
  return JSON.stringify(shown);
}
