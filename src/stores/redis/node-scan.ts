import type { Cluster, Redis } from 'ioredis';
import { withTimeout } from './errors.js';

/** Keys asked for per SCAN call, and per pipeline that follows it. */
export const SCAN_COUNT = 500;

/**
 * The connections that hold data: every master of a Cluster (each SCANs only its own
 * keys), or the one standalone client.
 */
export function dataNodes(client: Redis | Cluster): Redis[] {
  return client.isCluster ? (client as Cluster).nodes('master') : [client as Redis];
}

/**
 * Every key matching `pattern` on one node, in batches of about {@link SCAN_COUNT}.
 * SCAN may repeat a key; callers that must not see one twice dedupe.
 */
export async function* scanKeys(node: Redis, pattern: string, timeoutMs: number): AsyncGenerator<string[]> {
  let cursor = '0';
  do {
    const [next, keys] = await withTimeout(() => node.scan(cursor, 'MATCH', pattern, 'COUNT', SCAN_COUNT), timeoutMs);
    cursor = next;
    if (keys.length > 0) yield keys;
  } while (cursor !== '0');
}

/**
 * Runs one command per key in a single pipeline on `node` (one round trip) and returns
 * the replies in key order; a key whose command failed (e.g. moved to another Cluster
 * node by a reshard) gets `undefined`.
 */
export async function pipelined<T>(
  node: Redis,
  keys: readonly string[],
  add: (pipeline: ReturnType<Redis['pipeline']>, key: string) => void,
  timeoutMs: number,
): Promise<(T | undefined)[]> {
  const pipeline = node.pipeline();
  for (const key of keys) add(pipeline, key);
  const results = (await withTimeout(() => pipeline.exec(), timeoutMs)) ?? [];
  return results.map(([error, reply]) => (error ? undefined : (reply as T)));
}
