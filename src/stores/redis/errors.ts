import { StoreUnavailableError } from '../../errors.js';
import { ioredis } from './options.js';

/**
 * Replies of a server that is up but cannot serve now: loading, failing over, a cluster slot
 * without a master, or a redirection the client could not follow (a pipeline sent on a slot
 * map a failover made stale: the client refreshes its map on the reply, and the next request
 * goes to the new master).
 */
const UNAVAILABLE_REPLY = /^(LOADING|CLUSTERDOWN|MASTERDOWN|TRYAGAIN|BUSY|READONLY|NOREPLICAS|MOVED|ASK)\b/;

/**
 * Turns what ioredis throws into tsession's errors: anything that means "the server did
 * not answer" (refused or dropped connections, timeouts, a client not yet or no longer
 * connected, a cluster that cannot route) becomes `StoreUnavailableError` with the
 * original as `cause`. A real error reply from Redis (a bug, a wrong key type) passes through.
 */
export function mapRedisError(error: unknown): unknown {
  if (error instanceof StoreUnavailableError) return error;
  if (error instanceof ioredis().ReplyError && !UNAVAILABLE_REPLY.test((error as Error).message)) return error;
  // The code or the reply's first word only: the driver's message names the host and port, and stays in `cause` (issue 11, finding 8).
  const code = (error as { code?: unknown } | null)?.code;
  const reply =
    error instanceof ioredis().ReplyError ? UNAVAILABLE_REPLY.exec((error as Error).message)?.[1] : undefined;
  const text = typeof code === 'string' ? code : (reply ?? (error instanceof Error ? error.name : 'unknown error'));
  return new StoreUnavailableError(
    `RedisStore: the Redis server did not answer (${text}); check that it is running and reachable`,
    { cause: error },
  );
}

/**
 * Runs `task`, failing with `StoreUnavailableError` when it has not settled within
 * `ms`, whatever the client's own settings: the bound a request never waits past.
 */
export async function withTimeout<T>(task: () => Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new StoreUnavailableError(
            `RedisStore: the Redis server did not answer within ${ms / 1000} s (commandTimeoutSeconds); check that it is running and reachable`,
          ),
        ),
      ms,
    );
  });
  try {
    return await Promise.race([task(), expired]);
  } catch (error) {
    throw mapRedisError(error);
  } finally {
    clearTimeout(timer);
  }
}
