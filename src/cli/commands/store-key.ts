import { splitClientId } from '../../client-id/signing.js';
import { EXIT } from '../command.js';

/** The store key of a full client id (`key.tag`, as the cookie carries it) or of a bare key. */
export function storeKey(id: string): string {
  return splitClientId(id)?.key ?? id;
}

/** Says that no live session has this key, and makes the exit code say so too. */
export function notFound(key: string): void {
  console.error(`no live session ${key}`);
  process.exitCode = EXIT.notFound;
}
