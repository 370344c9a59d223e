import { isSessionError } from '../../errors.js';

/** How an adapter answers a failed request when the app does not handle the error itself. */
export interface ErrorAnswer {
  readonly status: number;
  /** A short text safe to show a client: a tsession error's message, else a generic one. */
  readonly message: string;
}

/**
 * Maps an error to a response: tsession's typed errors to their status (409 for a
 * conflict, 503 for a store that is down, 400 for a missing client id, ...), anything
 * else to a 500 whose text reveals nothing.
 */
export function errorAnswer(error: unknown): ErrorAnswer {
  if (isSessionError(error)) {
    // Serialization and size errors are the app's bug: their detail is for its logs, not the client.
    const message = error.status >= 500 && error.status !== 503 ? 'Internal Server Error' : error.message;
    return { status: error.status, message };
  }
  return { status: 500, message: 'Internal Server Error' };
}

/** The adapters' default error reporter: server-side failures go to the console, client-caused ones stay quiet. */
export function logServerErrors(error: unknown): void {
  if (errorAnswer(error).status >= 500) console.error(error);
}
