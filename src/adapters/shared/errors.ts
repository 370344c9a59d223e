import { isSessionError } from '../../errors.js';

/** How an adapter answers a failed request when the app does not handle the error itself. */
export interface ErrorAnswer {
  readonly status: number;
  /**
   * A short text safe to show a client: a tsession error's message for a client-side
   * failure (4xx), else a generic text for its status. A server-side error's detail
   * (a driver's message with host and port, a value's path) stays in the error and its
   * `cause`, for `onError` and the logs.
   */
  readonly message: string;
}

/**
 * Maps an error to a response: tsession's typed errors to their status (409 for a
 * conflict, 503 for a store that is down, 400 for a missing client id, ...), anything
 * else to a 500 whose text reveals nothing.
 */
export function errorAnswer(error: unknown): ErrorAnswer {
  const status = isSessionError(error) ? error.status : 500;
  if (status < 500) return { status, message: (error as Error).message };
  // Serialization and size errors are the app's bug, and a store's error names its host: neither is for an anonymous client.
  return { status, message: GENERIC_TEXT[status] ?? 'Internal Server Error' };
}

/** What a client is told of a server-side failure, by status (SPEC 48). */
const GENERIC_TEXT: Readonly<Record<number, string>> = {
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** The adapters' default error reporter: server-side failures go to the console, client-caused ones stay quiet. */
export function logServerErrors(error: unknown): void {
  if (errorAnswer(error).status >= 500) console.error(error);
}
