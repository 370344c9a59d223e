import { ConflictError } from '../errors.js';
import type { ImportedRecord, SessionStore } from '../stores/types.js';

/** Sessions written per batch: enough to amortise a round trip, small enough to keep memory flat. */
export const IMPORT_BATCH_SIZE = 1000;

/** Collects validated sessions of an import and writes them a batch at a time. */
export interface SessionBatch {
  /** Queues a session; writes the batch first when it is full or already holds the key. */
  add(session: ImportedRecord): Promise<void>;
  /** Writes what is queued. */
  flush(): Promise<void>;
}

/**
 * The write side of an import: sessions expired at `now` are skipped at once; the others
 * are written `IMPORT_BATCH_SIZE` at a time, through the store's `importBatch` when it has
 * one (one or a few round trips per batch), else as concurrent creating commits (which a
 * store with one connection, like Redis, pipelines). Keys in a batch are distinct, so the
 * outcome never depends on the order concurrent writes land in: a key seen again starts a
 * new batch. `tally(true)` counts a session written, `tally(false)` one skipped; when a
 * store call fails, the whole batch has settled before the error is thrown (nothing is
 * still writing after the import rejected), and any part of it may have been written.
 */
export function sessionBatch(
  store: SessionStore,
  now: number,
  replace: boolean,
  tally: (imported: boolean) => void,
): SessionBatch {
  let queued: ImportedRecord[] = [];
  let keys = new Set<string>();
  const flush = async () => {
    if (queued.length === 0) return;
    const batch = queued;
    queued = [];
    keys = new Set();
    const written = store.importBatch
      ? await store.importBatch(batch, now, { replace })
      : await settleAll(batch.map((session) => writeOne(store, session, now, replace)));
    for (const imported of written) tally(imported);
  };
  return {
    async add(session) {
      if (session.expiresAt !== null && now > session.expiresAt) return tally(false);
      if (keys.has(session.key)) await flush();
      queued.push(session);
      keys.add(session.key);
      if (queued.length >= IMPORT_BATCH_SIZE) await flush();
    },
    flush,
  };
}

/** Waits for every task, then throws the first failure, if any. */
async function settleAll<T>(tasks: Promise<T>[]): Promise<T[]> {
  const settled = await Promise.allSettled(tasks);
  const failed = settled.find((s) => s.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<T>).value);
}

/** One session as a creating commit with its own createdAt; false when a live record is already there. */
async function writeOne(store: SessionStore, session: ImportedRecord, now: number, replace: boolean): Promise<boolean> {
  if (replace) await store.destroy(session.key);
  try {
    await store.commit(
      session.key,
      {
        create: true,
        createdAt: session.createdAt,
        touch: { lastAccess: session.lastAccess, expiresAt: session.expiresAt },
        writes: session.entries.map(({ pkg, key, value }) => ({ pkg, key, value })),
      },
      now,
    );
    return true;
  } catch (error) {
    if (error instanceof ConflictError && error.reason === 'exists') return false;
    throw error;
  }
}
