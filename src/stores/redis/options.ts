import type { Cluster, Redis } from 'ioredis';
import { SessionConfigError } from '../../errors.js';
import { optionalPeer } from '../../optional-peer.js';

/** Options of {@link RedisStore}. Times are in seconds. */
export interface RedisStoreOptions {
  /**
   * A client the app already has: an ioredis `Redis` or `Cluster`. The store never
   * quits it; `close()` leaves it open. Give this or `url`. The store sends nothing while
   * the client is disconnected, whatever its options; create it with
   * {@link recommendedRedisOptions} so that a command whose connection drops is not
   * retried after the request already failed. It must not have a `keyPrefix`.
   */
  client?: Redis | Cluster;
  /**
   * Where to connect when no `client` is given; the store creates a client of its own
   * and quits it in `close()`. `redis://[:password@]host:port[/db]` or `rediss://` for
   * one server; `redis+cluster://host:port,host:port` (or `rediss+cluster://`) for a
   * Redis Cluster, naming one or more of its nodes.
   */
  url?: string;
  /** Prepended to every key: a session lives in the hash `<prefix>{<clientKey>}`. @default 'tsession:' */
  prefix?: string;
  /**
   * The longest one Redis call may take, connecting included, before it fails with
   * `StoreUnavailableError`. A down or slow server fails requests this fast instead of
   * hanging them; the client reconnects by itself when the server returns.
   * @default 2
   */
  commandTimeoutSeconds?: number;
  /**
   * How long Redis keeps a record after its `expiresAt` before its key TTL deletes it.
   * The TTL is set relative to the commit (`expiresAt - now + grace`), so clocks that
   * differ between the app and Redis do not matter; the grace covers app servers whose
   * clocks disagree. Loads never return an expired record whatever the grace.
   * @default 60
   */
  ttlGraceSeconds?: number;
  /**
   * Durable commits: after every write (commit, destroy) the store sends `WAIT` (in the
   * same round trip) and fails the call with `StoreUnavailableError` unless at least this
   * many replicas acknowledged it within `waitTimeoutSeconds`. Redis replicates
   * asynchronously, so without it a failover can lose writes the app already answered;
   * with it, a write the app acknowledged is on a replica too. A failed call may still
   * have been applied on the master. 0 turns it off.
   * @default 0
   */
  waitReplicas?: number;
  /** How long `WAIT` waits for the replicas; less than `commandTimeoutSeconds`. @default half of `commandTimeoutSeconds` */
  waitTimeoutSeconds?: number;
}

/** Options after validation, with defaults applied. */
export interface ResolvedRedisOptions {
  readonly prefix: string;
  readonly timeoutMs: number;
  readonly graceMs: number;
  /** Replicas `WAIT` must hear from; 0: no `WAIT`. */
  readonly waitReplicas: number;
  readonly waitMs: number;
}

/** Validates the options; throws `SessionConfigError` naming the fix. */
export function resolveOptions(options: RedisStoreOptions): ResolvedRedisOptions {
  const fail = (message: string): never => {
    throw new SessionConfigError(`RedisStore: ${message}`);
  };
  const { client, url, prefix = 'tsession:', commandTimeoutSeconds = 2, ttlGraceSeconds = 60 } = options ?? {};
  if ((client === undefined) === (url === undefined)) {
    fail('give exactly one of `client` (an ioredis Redis or Cluster) or `url` (e.g. redis://127.0.0.1:6379)');
  }
  if (client !== undefined && !(client instanceof ioredis().Redis || client instanceof ioredis().Cluster)) {
    fail('`client` must be an ioredis `Redis` or `Cluster` instance (ioredis 5)');
  }
  if (client?.options.keyPrefix) {
    fail('`client` must not have an ioredis `keyPrefix` (SCAN would not see it); pass `prefix` to the store instead');
  }
  if (url !== undefined && !(typeof url === 'string' && /^rediss?(\+cluster)?:\/\//.test(url))) {
    fail('`url` must start with redis://, rediss://, redis+cluster:// or rediss+cluster://');
  }
  if (typeof prefix !== 'string' || /[{}]/.test(prefix)) {
    fail('`prefix` must be a string without `{` or `}` (they mark the Cluster hash tag)');
  }
  if (!(typeof commandTimeoutSeconds === 'number' && commandTimeoutSeconds > 0 && commandTimeoutSeconds <= 600)) {
    fail('`commandTimeoutSeconds` must be a number of seconds > 0 and ≤ 600, e.g. 2');
  }
  if (!(typeof ttlGraceSeconds === 'number' && ttlGraceSeconds >= 0 && Number.isFinite(ttlGraceSeconds))) {
    fail('`ttlGraceSeconds` must be a number of seconds ≥ 0');
  }
  const { waitReplicas = 0, waitTimeoutSeconds = commandTimeoutSeconds / 2 } = options;
  if (!(Number.isInteger(waitReplicas) && waitReplicas >= 0 && waitReplicas <= 100)) {
    fail('`waitReplicas` must be an integer from 0 (off) to 100, e.g. 1');
  }
  if (
    !(typeof waitTimeoutSeconds === 'number' && waitTimeoutSeconds > 0 && waitTimeoutSeconds < commandTimeoutSeconds)
  ) {
    fail('`waitTimeoutSeconds` must be a number of seconds > 0 and below `commandTimeoutSeconds`');
  }
  return {
    prefix,
    timeoutMs: Math.round(commandTimeoutSeconds * 1000),
    graceMs: Math.round(ttlGraceSeconds * 1000),
    waitReplicas,
    waitMs: Math.max(1, Math.round(waitTimeoutSeconds * 1000)),
  };
}

/**
 * ioredis options that make a client fail fast while its server is down and reconnect
 * by itself when it returns: no offline queue (a command never waits for a connection
 * and never runs late, after its request gave up), no retries of a command whose
 * connection dropped, bounded connect and command timeouts, and a reconnect backoff
 * capped at one second.
 *
 * @param [commandTimeoutSeconds=2] the bound of one command
 * @example
 * ```ts
 * const client = new Redis('redis://127.0.0.1:6379', recommendedRedisOptions());
 * const store = new RedisStore({ client });
 * ```
 */
export function recommendedRedisOptions(commandTimeoutSeconds = 2) {
  const ms = Math.round(commandTimeoutSeconds * 1000);
  return {
    commandTimeout: ms,
    connectTimeout: ms,
    // A server that stops answering (paused, partitioned) gets its socket dropped soon after
    // the command timeout, so timed-out commands do not pile up waiting for it.
    socketTimeout: ms * 2,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: (times: number) => Math.min(times * 100, 1000),
  };
}

/** The ioredis package, loaded when a RedisStore is first made. @throws SessionConfigError when it is not installed */
export function ioredis(): typeof import('ioredis') {
  return optionalPeer<typeof import('ioredis')>('ioredis', 'RedisStore');
}

/** Creates the client a `url` names: a `Cluster` for the `+cluster` schemes, else a `Redis`. */
export function createClient(url: string, timeoutMs: number): Redis | Cluster {
  const { Cluster, Redis } = ioredis();
  const base = recommendedRedisOptions(timeoutMs / 1000);
  const cluster = /^(rediss?)\+cluster:\/\/(.*)$/.exec(url);
  if (!cluster) return new Redis(url, base);
  const [, scheme, rest] = cluster as unknown as [string, string, string];
  const parsed = new URL(`${scheme}://${rest.replace(/,.*?(?=\/|$)/, '')}`);
  const hosts = rest
    .replace(/^[^@]*@/, '')
    .replace(/\/.*$/, '')
    .split(',');
  const nodes = hosts.map((hostPort) => {
    const [host = '127.0.0.1', port = '6379'] = hostPort.split(':');
    return { host, port: Number(port) };
  });
  // Nodes keep Cluster's own defaults for queueing and reconnecting (it re-reads the slots instead).
  const { enableOfflineQueue: _queue, retryStrategy, ...nodeOptions } = base;
  return new Cluster(nodes, {
    enableOfflineQueue: false,
    slotsRefreshTimeout: timeoutMs,
    clusterRetryStrategy: retryStrategy,
    redisOptions: {
      ...nodeOptions,
      ...(parsed.username && { username: decodeURIComponent(parsed.username) }),
      ...(parsed.password && { password: decodeURIComponent(parsed.password) }),
      ...(scheme === 'rediss' && { tls: {} }),
    },
  });
}
