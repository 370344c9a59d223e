import type { Cluster, Redis } from 'ioredis';
import { StoreUnavailableError } from '../../errors.js';
import { lastWritePerEntry } from '../record.js';
import type { ImportBatchOptions, ImportedRecord, SessionDelta } from '../types.js';
import { mapRedisError, withTimeout } from './errors.js';
import { MAX_SENDS, prepareResends, type Resend, resendOf, type ScriptCall, sendScripts } from './redirects.js';
import { COMMIT_COMMAND, type CommitReply, commitArgs, DESTROY_COMMAND, refusalOf } from './scripts.js';
import { keySlot } from './slots.js';

/** What the bulk import needs of the store: its client, key layout and options. */
export interface ImportContext {
  readonly client: Redis | Cluster;
  readonly keys: (clientKey: string) => [record: string, index: string];
  readonly graceMs: number;
  readonly timeoutMs: number;
  readonly waitReplicas: number;
  readonly waitMs: number;
}

/** A record to send, and how, when a redirection sent it back (see `redirects.ts`). */
interface Pending {
  readonly index: number;
  readonly resend?: Resend;
}

/**
 * Imports a batch as creating commits (the commit script, with the record's own
 * `createdAt`), sent as pipelines: one per standalone server, one per Cluster master
 * (grouped by the slot owner the client knows). With `replace`, each commit follows a
 * destroy in the same pipeline; with `waitReplicas`, each pipeline ends with one `WAIT`.
 * The records a node redirected did not run: they are sent again where the redirection
 * says (`redirects.ts`), at most `MAX_SENDS` times in all before the batch fails.
 */
export async function pipelineImport(
  context: ImportContext,
  records: readonly ImportedRecord[],
  now: number,
  options: ImportBatchOptions,
): Promise<boolean[]> {
  const written: boolean[] = new Array(records.length);
  let pending: Pending[] = records.map((_, index) => ({ index }));
  for (let sent = 1; ; sent++) {
    const groups = groupByNode(context, records, pending);
    const replies = [...groups.values()].map((group) => sendGroup(context, records, group, now, options, written));
    const redirected = (await Promise.all(replies)).flat();
    if (redirected.length === 0) return written;
    if (sent === MAX_SENDS) throw mapRedisError(redirected[0]?.error);
    await prepareResends(
      context.client,
      redirected.map((r) => r.resend),
    );
    pending = redirected;
  }
}

/** The pending records per destination: the importing node an ASK named, else the slot's master (one group on standalone Redis). */
function groupByNode(
  context: ImportContext,
  records: readonly ImportedRecord[],
  pending: readonly Pending[],
): Map<unknown, Pending[]> {
  const groups = new Map<unknown, Pending[]>();
  const slots = context.client.isCluster ? (context.client as Cluster).slots : undefined;
  for (const item of pending) {
    const key = context.keys((records[item.index] as ImportedRecord).key)[0];
    const destination = item.resend?.importing ?? (slots ? String(slots[keySlot(key)]?.[0]) : '');
    const group = groups.get(destination) ?? [];
    group.push(item);
    groups.set(destination, group);
  }
  return groups;
}

/** A record a node redirected (its commit did not run): how to send it next. */
interface Redirected {
  readonly index: number;
  readonly resend: Resend;
  readonly error: unknown;
}

/** Sends one group's records (all to one node); resolves the ones redirected. */
async function sendGroup(
  context: ImportContext,
  records: readonly ImportedRecord[],
  group: readonly Pending[],
  now: number,
  options: ImportBatchOptions,
  written: boolean[],
): Promise<Redirected[]> {
  const calls: ScriptCall[] = [];
  /** Per record, the position of its commit's reply. */
  const commits: number[] = [];
  for (const { index: i } of group) {
    const record = records[i] as ImportedRecord;
    const [key, index] = context.keys(record.key);
    if (options.replace) calls.push({ command: DESTROY_COMMAND, args: [key, index] });
    const delta = deltaOf(record);
    commits.push(calls.length);
    const args = commitArgs(delta, lastWritePerEntry(delta.writes), now, context.graceMs);
    calls.push({ command: COMMIT_COMMAND, args: [2, key, index, ...args] });
  }
  const wait = { replicas: context.waitReplicas, ms: context.waitMs };
  const importing = group[0]?.resend?.importing;
  const results = await withTimeout(() => sendScripts(context.client, calls, wait, importing), context.timeoutMs * 2);
  const redirected: Redirected[] = [];
  const skipped = new Set<number>();
  group.forEach(({ index: i }, n) => {
    const position = commits[n] as number;
    const error = results[position]?.[0];
    const resend = resendOf(context.client, error);
    if (resend === undefined) return;
    redirected.push({ index: i, resend, error });
    skipped.add(position);
    if (options.replace) skipped.add(position - 1);
  });
  results.forEach(([error], position) => {
    if (error && !skipped.has(position)) throw mapRedisError(error);
  });
  if (context.waitReplicas > 0 && Number(results[results.length - 1]?.[1]) < context.waitReplicas) {
    throw new StoreUnavailableError(
      `RedisStore: an import batch was not acknowledged by ${context.waitReplicas} replicas within ${context.waitMs} ms (waitReplicas)`,
    );
  }
  group.forEach(({ index: i }, n) => {
    if (skipped.has(commits[n] as number)) return;
    const reply = results[commits[n] as number]?.[1] as CommitReply;
    if (reply[0] === 'ok') written[i] = true;
    else if (reply[0] === 'exists') written[i] = false;
    else throw refusalOf(reply, lastWritePerEntry(deltaOf(records[i] as ImportedRecord).writes));
  });
  return redirected;
}

/** The creating commit an imported record stands for. */
function deltaOf(record: ImportedRecord): SessionDelta & { writes: { pkg: string; key: string; value: string }[] } {
  return {
    create: true,
    createdAt: record.createdAt,
    touch: { lastAccess: record.lastAccess, expiresAt: record.expiresAt },
    writes: record.entries.map(({ pkg, key, value }) => ({ pkg, key, value })),
  };
}
