/**
 * Finding a user's sessions in a store: one home for how a user id becomes the stored
 * principal entry the stores index (`PRINCIPAL_KEY` in the internal package), used by
 * `SessionManager.sessionsOf` and the CLI.
 *
 * @module
 */
import type { SessionCodec } from '../codec/codec.js';
import { StoreUnsupportedError } from '../errors.js';
import { INTERNAL_PACKAGE, PRINCIPAL_KEY } from '../stores/record.js';
import type { ScannedSession, SessionStore } from '../stores/types.js';
import { checkPrincipal } from './names.js';

/**
 * The store's live records of `userId` (not expired by `expiresAt` at `now`), oldest
 * first, through the store's principal index.
 * @throws SessionNameError for an invalid user id; StoreUnsupportedError when the store
 *   cannot index principals (`capabilities.principals`).
 */
export async function recordsOfPrincipal(
  store: SessionStore,
  codec: SessionCodec,
  userId: string,
  now: number,
): Promise<ScannedSession[]> {
  checkPrincipal(userId);
  if (store.capabilities.principals !== true || store.findByPrincipal === undefined) {
    throw new StoreUnsupportedError(
      'this store cannot find sessions by user (capabilities.principals is false); use MemoryStore, SqliteStore, RedisStore or PostgresStore',
    );
  }
  const records = await store.findByPrincipal(codec.encode(userId, [INTERNAL_PACKAGE, PRINCIPAL_KEY]), now);
  return records.sort((a, b) => a.createdAt - b.createdAt || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** The user id a record belongs to, decoded with `codec`; undefined when it has none. */
export function principalOf(codec: SessionCodec, record: Pick<ScannedSession, 'entries'>): string | undefined {
  const entry = record.entries.find((e) => e.pkg === INTERNAL_PACKAGE && e.key === PRINCIPAL_KEY);
  return entry === undefined ? undefined : String(codec.decode(entry.value));
}
