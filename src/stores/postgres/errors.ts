import {
  ConflictError,
  SessionLimitError,
  SessionStateError,
  SessionTooLargeError,
  StoreUnavailableError,
} from '../../errors.js';
import { incrementError } from '../record.js';
import { CONFLICT_STATE, INCREMENT_STATE, LIMIT_STATE, TOO_LARGE_STATE } from './commit-function.js';

/** Socket errors, and SQLSTATEs of a server going away, timing out or refusing connections. */
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '57014', // query_canceled: statement_timeout
  '55P03', // lock_not_available: lock_timeout
  '53300', // too_many_connections
]);

/** Messages pg and pg-pool give to timeouts and dropped connections, which carry no code. */
const UNAVAILABLE_MESSAGE =
  /timeout exceeded when trying to connect|Query read timeout|Connection terminated|connection error|Connection timeout/i;

/**
 * SQLSTATEs of a server that refuses the connection for who or where it is: a database
 * or role that does not exist, a password refused. Misconfiguration rather than an outage,
 * but it fails every call alike until fixed, and a fix needs no restart: unavailable, with
 * a message that says what to check.
 */
const REFUSED_LOGIN = new Map([
  ['3D000', 'the database does not exist; check the database name'],
  ['28000', 'the role does not exist or may not log in; check the user (role)'],
  ['28P01', 'the password was refused; check the user and password'],
]);

/** SQLSTATEs that mean the schema is missing: `migrate()` was not run. */
const MISSING_SCHEMA = new Set(['42P01', '42883', '3F000']);

/**
 * Turns what pg throws into tsession's typed errors: the commit function's conflicts and
 * limit, an unreachable or slow server (`StoreUnavailableError`, with the original as
 * `cause`), a missing schema. Real SQL errors pass through unchanged.
 */
export function mapPostgresError(error: unknown, where: string): unknown {
  const { code, message, detail } = (error ?? {}) as { code?: unknown; message?: unknown; detail?: unknown };
  if (code === CONFLICT_STATE) return conflict(String(message), detail);
  if (code === LIMIT_STATE) return new SessionLimitError(Number(message));
  if (code === INCREMENT_STATE) {
    const [pkg, key] = JSON.parse(String(detail)) as [string, string];
    return incrementError({ pkg, key }, String(message));
  }
  if (code === TOO_LARGE_STATE) {
    const [size, limit] = JSON.parse(String(detail)) as [number, number];
    return new SessionTooLargeError(Number(size), Number(limit), String(message));
  }
  if (isUnavailable(error)) {
    return new StoreUnavailableError(
      `PostgresStore: the PostgreSQL server did not answer (${summarize(error)}); check that it is running and reachable`,
      { cause: error },
    );
  }
  const refused = typeof code === 'string' ? REFUSED_LOGIN.get(code) : undefined;
  if (refused) {
    return new StoreUnavailableError(
      // Said from the SQLSTATE, not the driver's text (which may name the host): see summarize.
      `PostgresStore: PostgreSQL refused the connection (${summarize(error)}): ${refused} in the connection string or pool options`,
      { cause: error },
    );
  }
  if (typeof code === 'string' && MISSING_SCHEMA.has(code)) {
    return new SessionStateError(
      `PostgresStore: ${where} is missing (${String(message)}); call \`await store.migrate()\` (or pass \`autoMigrate: true\`) before using the store`,
    );
  }
  return error;
}

function conflict(reason: string, detail: unknown): ConflictError {
  if (reason === 'version') {
    const pairs = JSON.parse(String(detail)) as [string, string][];
    return new ConflictError(
      'version',
      pairs.map(([pkg, key]) => `${pkg} › ${key}`),
    );
  }
  return new ConflictError(reason === 'exists' ? 'exists' : 'gone');
}

function isUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (UNAVAILABLE_CODES.has(code) || code.startsWith('08'))) return true;
  if (error instanceof AggregateError && error.errors.some(isUnavailable)) return true;
  // A DatabaseError has a SQLSTATE and is a real answer from the server, whatever its message.
  return typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code) ? UNAVAILABLE_MESSAGE.test(error.message) : false;
}

/** The error's code only: the driver's message names the host and port, and stays in `cause` (issue 11, finding 8). */
function summarize(error: unknown): string {
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === 'string') return code;
  return typeof message === 'string' && /timeout/i.test(message) ? 'connection timeout' : 'connection error';
}
