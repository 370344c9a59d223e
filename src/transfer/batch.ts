import { ConflictError, StoreUnavailableError } from '../errors.js';
import type { ImportedRecord, SessionCaps, SessionStore } from '../stores/types.js';

/** Sessions written per batch: enough to amortise a round trip, small enough to keep memory flat. */
export const IMPORT_BATCH_SIZE = 1000;

/** Collects validated sessions of an import and writes them a batch at a time. */
export interface SessionBatch {
  /** Queues the session of input line `line`; writes the batch first when it is full or already holds the key. */
  add(session: ImportedRecord, line: number): Promise<void>;
  /** Writes what is queued. */
  flush(): Promise<void>;
}

/** What became of one session: written (true), skipped (false), or the reason the store refused it. */
export type ImportOutcome = boolean | string;

/**
 * The write side of an import: sessions expired at `now` are skipped at once; the others
 * are written `IMPORT_BATCH_SIZE` at a time, through the store's `importBatch` when it has
 * one (one or a few round trips per batch), else as concurrent creating commits (which a
 * store with one connection, like Redis, pipelines). Keys in a batch are distinct, so the
 * outcome never depends on the order concurrent writes land in: a key seen again starts a
 * new batch. `tally(line, outcome)` reports each session by its input line: written,
 * skipped, or the store's refusal (that line's problem only). When the store is down, the
 * whole batch has settled before the error is thrown (nothing is still writing after the
 * import rejected), and any part of it may have been written.
 */
export function sessionBatch(
  store: SessionStore,
  now: number,
  replace: boolean,
  caps: SessionCaps,
  tally: (line: number, outcome: ImportOutcome) => void,
): SessionBatch {
  let queued: ImportedRecord[] = [];
  let lines: number[] = [];
  let keys = new Set<string>();
  const flush = async () => {
    if (queued.length === 0) return;
    const batch = queued;
    const batchLines = lines;
    queued = [];
    lines = [];
    keys = new Set();
    const written: ImportOutcome[] = store.importBatch
      ? await store.importBatch(batch, now, { replace })
      : await settleAll(batch.map((session) => writeOne(store, session, now, replace, caps)));
    for (const [i, outcome] of written.entries()) tally(batchLines[i] as number, outcome);
  };
  return {
    async add(session, line) {
      if (session.expiresAt !== null && now > session.expiresAt) return tally(line, false);
      if (keys.has(session.key)) await flush();
      queued.push(session);
      lines.push(line);
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

/**
 * One session as a creating commit with its own createdAt, held to the caps as a
 * request's commit is: true when written, false when a live record is already there,
 * or the store's reason for refusing it. Only a store that is down throws.
 */
async function writeOne(
  store: SessionStore,
  session: ImportedRecord,
  now: number,
  replace: boolean,
  caps: SessionCaps,
): Promise<ImportOutcome> {
  try {
    if (replace) await store.destroy(session.key);
    await store.commit(
      session.key,
      {
        create: true,
        createdAt: session.createdAt,
        touch: { lastAccess: session.lastAccess, expiresAt: session.expiresAt },
        writes: session.entries.map(({ pkg, key, value }) => ({ pkg, key, value })),
        caps,
      },
      now,
    );
    return true;
  } catch (error) {
    if (error instanceof ConflictError && error.reason === 'exists') return false;
    if (error instanceof StoreUnavailableError || !(error instanceof Error)) throw error;
    return `the store refused the session: ${error.message}`;
  }
}
