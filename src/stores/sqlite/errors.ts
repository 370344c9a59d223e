import { StoreUnavailableError } from '../../errors.js';

/**
 * SQLite result codes that mean the database cannot serve the request right now:
 * locked past the busy timeout, I/O or disk trouble, a file that cannot be opened,
 * read or written. Constraint and misuse errors are bugs and pass through unchanged.
 */
const UNAVAILABLE = /^SQLITE_(BUSY|LOCKED|IOERR|CANTOPEN|FULL|NOMEM|PROTOCOL|READONLY|CORRUPT|NOTADB|PERM|AUTH)/;

/** Node file-system codes met when creating the database's directory. */
const FS_UNAVAILABLE = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOSPC', 'ENOTDIR', 'EEXIST']);

/**
 * The error to throw for `error`: a `StoreUnavailableError` (with `error` as its
 * cause) when the database is out of reach, closed or broken, else `error` itself.
 */
export function unavailable(error: unknown, context: string): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  const closed = error instanceof TypeError && /database connection is not open/i.test(error.message);
  if ((typeof code === 'string' && (UNAVAILABLE.test(code) || FS_UNAVAILABLE.has(code))) || closed) {
    // The code only: the driver's message may name a file path, and stays in `cause` (issue 11, finding 8).
    const detail = typeof code === 'string' ? code : 'the database connection is not open';
    return new StoreUnavailableError(`${context}: ${detail}`, { cause: error });
  }
  return error;
}
