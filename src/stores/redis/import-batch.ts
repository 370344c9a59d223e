import type { Cluster, Redis } from 'ioredis';
import { StoreUnavailableError } from '../../errors.js';
import { lastWritePerEntry } from '../record.js';
import type { ImportBatchOptions, ImportedRecord, SessionDelta } from '../types.js';
import { isMoved, mapRedisError, refreshSlots, withTimeout } from './errors.js';
import { type CommitReply, commitArgs, refusalOf } from './scripts.js';
import { keySlot } from './slots.js';

/** What the bulk import needs of the store: its script names, key layout and options. */
export interface ImportContext {
  readonly client: Redis | Cluster;
  readonly commit: string;
  readonly destroy: string;
  readonly keys: (clientKey: string) => [record: string, index: string];
  readonly graceMs: number;
  readonly timeoutMs: number;
  readonly waitReplicas: number;
  readonly waitMs: number;
}

type Pipeline = ReturnType<Redis['pipeline']>;
type Scripted = Record<string, (...args: (string | number)[]) => unknown>;

/**
 * Imports a batch as creating commits (the commit script, with the record's own
 * `createdAt`), sent as pipelines: one per standalone server, one per Cluster master
 * (grouped by the slot owner the client knows). The records a node answered `MOVED` (a
 * slot resharded since the client read its map: their commits did not run) are sent again
 * once, regrouped after the map is read again; a second `MOVED` fails the batch. With
 * `replace`, each commit follows a destroy in the same pipeline; with `waitReplicas`,
 * each pipeline ends with one `WAIT`.
 */
export async function pipelineImport(
  context: ImportContext,
  records: readonly ImportedRecord[],
  now: number,
  options: ImportBatchOptions,
): Promise<boolean[]> {
  const written: boolean[] = new Array(records.length);
  let pending = records.map((_, i) => i);
  for (let attempt = 0; ; attempt++) {
    const groups = groupByNode(context.client, context.keys, records, pending);
    const sent = [...groups.values()].map((indexes) => sendGroup(context, records, indexes, now, options, written));
    const moved = (await Promise.all(sent)).flat();
    if (moved.length === 0) return written;
    if (attempt > 0) throw mapRedisError(moved[0]?.error);
    await refreshSlots(context.client);
    pending = moved.map((m) => m.index);
  }
}

/** The given record indexes per master (all together on standalone Redis). */
function groupByNode(
  client: Redis | Cluster,
  keys: ImportContext['keys'],
  records: readonly ImportedRecord[],
  indexes: readonly number[],
): Map<string, number[]> {
  const groups = new Map<string, number[]>();
  const slots = client.isCluster ? (client as Cluster).slots : undefined;
  for (const i of indexes) {
    const owner = slots ? String(slots[keySlot(keys((records[i] as ImportedRecord).key)[0])]?.[0]) : '';
    const group = groups.get(owner) ?? [];
    group.push(i);
    groups.set(owner, group);
  }
  return groups;
}

/** A record whose commit a node answered `MOVED`: it did not run. */
interface MovedRecord {
  readonly index: number;
  readonly error: unknown;
}

async function sendGroup(
  context: ImportContext,
  records: readonly ImportedRecord[],
  indexes: readonly number[],
  now: number,
  options: ImportBatchOptions,
  written: boolean[],
): Promise<MovedRecord[]> {
  const pipeline = context.client.pipeline() as Pipeline & Scripted;
  const replies: number[] = [];
  for (const i of indexes) {
    const record = records[i] as ImportedRecord;
    const [key, index] = context.keys(record.key);
    if (options.replace) pipeline[context.destroy]?.(key, index);
    const delta = deltaOf(record);
    replies.push(pipeline.length);
    pipeline[context.commit]?.(
      2,
      key,
      index,
      ...commitArgs(delta, lastWritePerEntry(delta.writes), now, context.graceMs),
    );
  }
  if (context.waitReplicas > 0) pipeline.wait(context.waitReplicas, context.waitMs);
  const results = (await withTimeout(() => pipeline.exec(), context.timeoutMs * 2)) ?? [];
  const moved: MovedRecord[] = [];
  const sentAgain = new Set<number>();
  indexes.forEach((i, n) => {
    const position = replies[n] as number;
    const error = results[position]?.[0];
    if (!isMoved(error)) return;
    moved.push({ index: i, error });
    sentAgain.add(position);
    if (options.replace) sentAgain.add(position - 1);
  });
  results.forEach(([error], position) => {
    if (error && !sentAgain.has(position)) throw mapRedisError(error);
  });
  if (context.waitReplicas > 0 && Number(results[results.length - 1]?.[1]) < context.waitReplicas) {
    throw new StoreUnavailableError(
      `RedisStore: an import batch was not acknowledged by ${context.waitReplicas} replicas within ${context.waitMs} ms (waitReplicas)`,
    );
  }
  indexes.forEach((i, n) => {
    if (sentAgain.has(replies[n] as number)) return;
    const reply = results[replies[n] as number]?.[1] as CommitReply;
    if (reply[0] === 'ok') written[i] = true;
    else if (reply[0] === 'exists') written[i] = false;
    else throw refusalOf(reply, lastWritePerEntry(deltaOf(records[i] as ImportedRecord).writes));
  });
  return moved;
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
