import { StoreUnavailableError } from '../../errors.js';

/** The callback express-session stores call when done: an error, or null and a result. */
export type StoreCallback<T = unknown> = (error?: unknown, result?: T) => void;

/**
 * The callback API of an express-session store (its README's store contract), the
 * shape that connect-redis, connect-pg-simple, memorystore and express-session's own
 * `MemoryStore` implement. Only `get`, `set` and `destroy` are required.
 */
export interface ConnectCompatibleStore {
  get(sid: string, callback: StoreCallback<unknown>): unknown;
  set(sid: string, session: object, callback?: StoreCallback<void>): unknown;
  destroy(sid: string, callback?: StoreCallback<void>): unknown;
  touch?(sid: string, session: object, callback?: StoreCallback<void>): unknown;
  /** An object of sid → session, or an array of sessions that carry their sid in `id` (connect-redis). */
  all?(callback: StoreCallback<unknown>): unknown;
  length?(callback: StoreCallback<number>): unknown;
  clear?(callback?: StoreCallback<void>): unknown;
}

/**
 * Calls one method of an express-session store and resolves its callback's result.
 * Any failure (an error passed to the callback, thrown, or rejected, or no answer
 * within `timeoutMs`) becomes a `StoreUnavailableError` naming the operation.
 */
export function callStore<T>(
  operation: string,
  timeoutMs: number,
  invoke: (callback: StoreCallback<T>) => unknown,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const fail = (error: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(unavailable(operation, error));
    };
    const timer = setTimeout(() => fail(new NoAnswer(`no answer within ${timeoutMs / 1000} s`)), timeoutMs);
    const callback: StoreCallback<T> = (error, result) => {
      if (error && !meansNoSession(operation, error)) return fail(error);
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve((error ? undefined : result) as T);
    };
    try {
      const returned = invoke(callback);
      // Promise-returning stores (connect-redis) may reject instead of calling back.
      if (returned instanceof Promise) returned.catch(fail);
    } catch (error) {
      fail(error);
    }
  });
}

/**
 * True for an `ENOENT` error from `get` or `destroy`: a store that keeps one file per
 * session (session-file-store) reports a missing session that way, and express-session
 * itself reads it as "no session" rather than as a failure.
 */
function meansNoSession(operation: string, error: unknown): boolean {
  return (operation === 'get' || operation === 'destroy') && (error as { code?: unknown } | null)?.code === 'ENOENT';
}

function unavailable(operation: string, error: unknown): StoreUnavailableError {
  // The code only: the store's own message may name its host and port, and stays in `cause` (SPEC 48).
  const code = (error as { code?: unknown } | null)?.code;
  const reason =
    error instanceof NoAnswer
      ? error.message
      : typeof code === 'string'
        ? code
        : error instanceof Error
          ? error.name
          : 'no error';
  return new StoreUnavailableError(`ConnectStore: the express-session store failed on ${operation}: ${reason}`, {
    cause: error,
  });
}

/** The store did not call back in time: our own message, safe to keep. */
class NoAnswer extends Error {}
