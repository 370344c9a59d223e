import type { Cluster, Redis } from 'ioredis';
import { ConflictError, SessionStateError, StoreUnavailableError } from '../../errors.js';
import { entryId, INTERNAL_PACKAGE, lastWritePerEntry, PRINCIPAL_KEY } from '../record.js';
import type {
  CommitResult,
  EntryWrite,
  ImportBatchOptions,
  ImportedRecord,
  ScannedSession,
  SessionDelta,
  SessionStore,
  StoreCapabilities,
  StoredSession,
  SweepOptions,
} from '../types.js';
import { mapRedisError, withTimeout } from './errors.js';
import { pipelineImport } from './import-batch.js';
import { decodeRecord, decodeScanned, expiryIndexKey, matchPattern, principalSetKey, redisKey } from './layout.js';
import { dataNodes, pipelined, scanKeys } from './node-scan.js';
import { createClient, type RedisStoreOptions, type ResolvedRedisOptions, resolveOptions } from './options.js';
import { MAX_SENDS, prepareResends, type Resend, resendOf, sendScripts } from './redirects.js';
import {
  COMMIT_COMMAND,
  type CommitReply,
  commitArgs,
  DESTROY_COMMAND,
  PRINCIPAL_INDEX_COMMAND,
  PRINCIPAL_PRUNE_COMMAND,
  RETIRE_COMMAND,
  refusalOf,
  replacedArgs,
  SCRIPTS,
  SWEEP_COMMAND,
} from './scripts.js';
import { keySlot, slotTags } from './slots.js';

/**
 * How long, in seconds, a member of a principal's index is kept although its record does
 * not (yet) hold the principal: far longer than any commit takes between adding its record
 * to the index and applying it, so a reader never unlists a record being committed.
 */
const PRINCIPAL_GRACE_SECONDS = 300;
/** Expired members read from one expiry index per sweep step. */
const SWEEP_BATCH = 500;
/** Expiry indexes (Cluster slots) swept at once: their commands share the connections as pipelines. */
const SWEEP_PARALLEL = 256;
type Scripted = Record<string, (...args: (string | number)[]) => Promise<unknown>>;

/**
 * Keeps sessions in Redis, standalone or Cluster, for apps on several processes or
 * machines. One hash per client, `<prefix>{<clientKey>}` (a hash tag, so a session is
 * always in one Cluster slot), with a metadata field and one field per entry holding its
 * version and value (see `layout.ts`).
 *
 * - `load` is one round trip (HGETALL); an expired record reads as missing at once.
 * - `commit` is one round trip: a Lua script (EVALSHA) checks create/exists/gone and every
 *   expected version, then applies clear, writes, deletes and touch, or nothing at all.
 * - Redis reclaims expired sessions itself: the key's TTL is set from `expiresAt` on every
 *   commit that moves it (relative to the commit's `now`, plus `ttlGraceSeconds`). The
 *   same script keeps the record in an expiry index (a sorted set per Cluster slot), so
 *   `sweep` costs the expired records and reports each one exactly once, TTL-reclaimed or not.
 * - With `waitReplicas`, every write is followed by `WAIT` in the same round trip and
 *   fails with `StoreUnavailableError` unless replicas acknowledged it (durable commits).
 * - `destroy` is a DEL, and final: a later non-creating commit fails with `ConflictError('gone')`.
 * - A down or slow server fails every call with `StoreUnavailableError` within
 *   `commandTimeoutSeconds`; the client reconnects by itself when the server returns.
 *   While the client is disconnected nothing is sent, so a failed commit wrote nothing;
 *   only a commit that reached a server too slow to answer in time may still apply
 *   (atomically, all or nothing), as with any timeout.
 *
 * Regenerate (`replaces`) is atomic on standalone Redis: the old record is checked and
 * deleted in the commit's script. On Cluster the two keys live in different slots, so it
 * takes two steps: the new record is created first, then the old one is deleted if it is
 * still live; if it is not (a concurrent logout), the new record is deleted again and the
 * commit fails with `ConflictError('gone')`. The check that the old record still holds the
 * entries the regenerate loaded (`replacesEntries`) runs in that second step too, atomically
 * with its delete: if a write reached the old record meanwhile, the old record is kept as it
 * is, the new one is deleted again, and the commit fails with `ConflictError('version')`. No one else can know the new key before the
 * response goes out, so the new record is never seen half-made. If the process dies or
 * Redis fails between the steps, both records exist until the old one is invalidated or
 * expires: data is never lost, but the old id stays valid that long
 * (`capabilities.atomicRegenerate` is false on Cluster).
 *
 * No `limit`: counting live sessions in Redis costs a SCAN of every key (O(n)).
 *
 * @example
 * ```ts
 * const store = new RedisStore({ url: 'redis://127.0.0.1:6379', prefix: 'myapp:sess:' });
 * const container = new SessionDataContainer({ store, timeout: 1800 });
 * ```
 */
export class RedisStore implements SessionStore {
  readonly capabilities: StoreCapabilities;
  /** The client the store talks through (the app's own, or one it created from `url`). */
  readonly client: Redis | Cluster;
  readonly #owned: boolean;
  readonly #options: ResolvedRedisOptions;
  #readyWait: Promise<void> | undefined;
  /** The last connection error of a client the store owns: the cause of failing fast while it is down. */
  #lastError: unknown;

  /** @throws SessionConfigError when neither or both of `client` and `url` are given, or an option is invalid. */
  constructor(options: RedisStoreOptions) {
    this.#options = resolveOptions(options);
    this.#owned = options.client === undefined;
    this.client = options.client ?? createClient(options.url as string, this.#options.timeoutMs);
    // Errors reach callers as StoreUnavailableError; without a listener ioredis would log each reconnect attempt.
    if (this.#owned) this.client.on('error', (error) => (this.#lastError = error));
    for (const [name, script] of Object.entries(SCRIPTS)) this.client.defineCommand(name, script);
    this.capabilities = {
      limit: false,
      atomicRegenerate: !this.client.isCluster,
      perKeyVersions: true,
      // Key TTLs reclaim the data, but only a sweep reports the expiries (onEnd) and clears
      // their expiry index entries: the container sweeps it on its default timer.
      selfExpiring: false,
      increments: true,
      principals: true,
    };
  }

  async load(key: string, now: number): Promise<StoredSession | undefined> {
    const hash = await this.#call(() => this.client.hgetall(this.#key(key)));
    return decodeRecord(hash, now);
  }

  async commit(key: string, delta: SessionDelta, now: number): Promise<CommitResult> {
    if (delta.create && delta.touch === undefined) {
      throw new SessionStateError('RedisStore: a commit that creates a record needs a `touch`');
    }
    const writes = lastWritePerEntry(delta.writes);
    if (delta.limit !== undefined) {
      throw new SessionStateError('RedisStore: cannot enforce a `limit` (capabilities.limit is false)');
    }
    const twoStep = delta.replaces !== undefined && this.client.isCluster;
    const keys = [this.#key(key), this.#indexOf(key)];
    if (delta.replaces !== undefined && !twoStep) keys.push(this.#key(delta.replaces));
    const args = commitArgs(delta, writes, now, this.#options.graceMs);
    const indexed = await this.#indexPrincipalWritten(key, writes, args, now);
    const reply = (await this.#write(
      COMMIT_COMMAND,
      [keys.length, ...keys, ...args],
      (r) => (r as CommitReply)[0] === 'ok',
    )) as CommitReply;
    if (reply[0] !== 'ok') throw refusalOf(reply, writes);
    if (twoStep) await this.#retire(key, delta, now);
    const principal = reply[1];
    if (principal !== undefined && principal !== indexed) await this.#indexPrincipal(key, String(principal), args, now);
    return { evicted: [] };
  }

  // ---------------------------------------------------------------------------
  // Sessions by user: one index per principal (`principalSetKey`, a sorted set scored by
  // when each member was added), a superset of the records holding it. A commit that writes
  // a principal adds the record to its index BEFORE the commit, so no crash can leave a
  // record unlisted; one whose expiry moves extends the index's TTL after it. Records that
  // ended, expired or changed principal are filtered out on read, and removed from the index
  // once older than PRINCIPAL_GRACE_SECONDS.

  /** The principal's live records: its set, each member read and checked (then stale ones removed). */
  async findByPrincipal(encoded: string, now: number): Promise<ScannedSession[]> {
    const setKey = principalSetKey(this.#options.prefix, encoded);
    const members = await this.#call(() => this.client.zrange(setKey, 0, -1));
    const hashes = await Promise.all(members.map((m) => this.#call(() => this.client.hgetall(this.#key(m)))));
    const found: ScannedSession[] = [];
    const stale: string[] = [];
    for (const [i, member] of members.entries()) {
      const record = decodeRecord(hashes[i] ?? {}, now);
      if (record && holdsPrincipal(record, encoded)) found.push({ key: member, ...record });
      else stale.push(member);
    }
    // Only members added before the grace period go: a record seen without the principal may
    // be one whose commit added it to the index and has not landed yet.
    const before = now - PRINCIPAL_GRACE_SECONDS;
    if (stale.length > 0) await this.#call(() => this.#scripted(PRINCIPAL_PRUNE_COMMAND)(setKey, before, ...stale));
    return found;
  }

  /** Adds the record to the set of the principal `writes` set, if any; returns that principal. */
  async #indexPrincipalWritten(key: string, writes: readonly EntryWrite[], args: readonly string[], now: number) {
    const write = writes.find((w) => w.key === PRINCIPAL_KEY && w.pkg === INTERNAL_PACKAGE);
    if (write?.value === undefined) return undefined;
    await this.#indexPrincipal(key, write.value, args, now);
    return write.value;
  }

  /**
   * Adds `key` to the principal's set, keeping the set alive at least as long as the
   * record: the commit's TTL (`args[6]`) when it touches (`args[3]`), else the record's own.
   */
  async #indexPrincipal(key: string, encoded: string, args: readonly string[], now: number): Promise<void> {
    const setKey = principalSetKey(this.#options.prefix, encoded);
    let ttl = args[6] ?? '';
    if (args[3] !== '1') {
      const left = await this.#call(() => this.client.pttl(this.#key(key)));
      if (left === -2) return; // no record: the commit fails as gone
      ttl = left < 0 ? '' : String(left);
    }
    await this.#call(() => this.#scripted(PRINCIPAL_INDEX_COMMAND)(setKey, key, ttl, now));
  }

  /** Deletes the record and its expiry index entry (one script), so no sweep reports it as expired later. */
  async destroy(key: string): Promise<boolean> {
    const args = [this.#key(key), this.#indexOf(key)];
    return ((await this.#write(DESTROY_COMMAND, args, (deleted) => deleted === 1)) as number) > 0;
  }

  /**
   * Reports, and removes, every record that expired before `now`, by the expiry index:
   * per index (one on standalone, one per slot on Cluster) a `ZRANGEBYSCORE` of members
   * below `now`, 500 at a time, then one script that deletes those records and their
   * members. So a sweep costs the expired records plus one `ZRANGEBYSCORE` per index
   * (16,384 on Cluster, pipelined), never a pass over the live ones.
   *
   * Every expired session reaches `onRemoved` exactly once, whether its hash was still
   * there (expired, within `ttlGraceSeconds`) or Redis had already reclaimed it by its
   * TTL: the index keeps the member until a sweep removes it, and the script removing
   * it is atomic, so two sweeps at once never report the same session. (Keyspace
   * notifications would be the other way; they are not used because Redis drops them for
   * a client that is disconnected when they fire, and they need server configuration.)
   * A session ended by `destroy` or a regenerate leaves the index at once and is not
   * reported. Records written before the index existed are reclaimed by their TTL unreported,
   * and so is an expired record not yet swept when a create reuses its key (client keys are
   * random: only an import or a test does that).
   */
  async sweep(now: number, options: SweepOptions = {}): Promise<number> {
    await this.#call(async () => {});
    const tags = this.client.isCluster ? slotTags() : [''];
    let removed = 0;
    for (let start = 0; start < tags.length; start += SWEEP_PARALLEL) {
      const round = tags.slice(start, start + SWEEP_PARALLEL);
      const counts = await Promise.all(round.map((tag) => this.#sweepIndex(tag, now, options)));
      for (const count of counts) removed += count;
    }
    return removed;
  }

  /**
   * The bulk path of an import: the batch's creating commits sent as one pipeline per
   * server (per master on Cluster) instead of one round trip each (see `import-batch.ts`).
   */
  async importBatch(records: readonly ImportedRecord[], now: number, options: ImportBatchOptions): Promise<boolean[]> {
    await this.#call(async () => {});
    const { graceMs, timeoutMs, waitReplicas, waitMs } = this.#options;
    const keys = (clientKey: string): [string, string] => [this.#key(clientKey), this.#indexOf(clientKey)];
    const context = { client: this.client, keys };
    await this.#indexImportedPrincipals(records, now);
    return pipelineImport({ ...context, graceMs, timeoutMs, waitReplicas, waitMs }, records, now, options);
  }

  /**
   * Sessions by user, for the bulk import: each record holding a principal is added to its
   * index before the pipelines commit it, as a single commit does (one kept instead, a live
   * record already there, is pruned from the index after the grace).
   */
  async #indexImportedPrincipals(records: readonly ImportedRecord[], now: number): Promise<void> {
    await Promise.all(
      records.map((record) => {
        const entry = record.entries.find((e) => e.key === PRINCIPAL_KEY && e.pkg === INTERNAL_PACKAGE);
        if (entry === undefined) return undefined;
        const ttl =
          record.expiresAt === null
            ? ''
            : String(Math.max(1, Math.ceil((record.expiresAt - now) * 1000 + this.#options.graceMs)));
        const setKey = principalSetKey(this.#options.prefix, entry.value);
        return this.#call(() => this.#scripted(PRINCIPAL_INDEX_COMMAND)(setKey, record.key, ttl, now));
      }),
    );
  }

  /**
   * Every live record, SCANned (`COUNT 500`) on every master node and read by pipelined
   * HGETALLs, in memory that does not grow with the store. Like SCAN itself, it may yield
   * a record twice if Redis resizes its table meanwhile.
   */
  async *scan(now: number): AsyncIterable<ScannedSession> {
    await this.#call(async () => {});
    const { prefix, timeoutMs } = this.#options;
    // No set of keys seen: it would grow with the store, and export must stay flat in
    // memory. SCAN can return a key twice while Redis resizes its table; readers of the
    // stream (import) skip a session that already exists.
    for (const node of dataNodes(this.client)) {
      for await (const keys of scanKeys(node, matchPattern(prefix), timeoutMs)) {
        const unique = [...new Set(keys)];
        const hashes = await pipelined<Record<string, string>>(node, unique, (p, k) => p.hgetall(k), timeoutMs);
        for (const [i, k] of unique.entries()) {
          const record = decodeScanned(prefix, k, hashes[i] ?? {}, now);
          if (record) yield record;
        }
      }
    }
  }

  /** Quits the client the store created from `url`; a client the app passed in stays open. */
  async close(): Promise<void> {
    if (!this.#owned || this.client.status === 'end') return;
    const { client } = this;
    const ended = new Promise<void>((resolve) => client.once('end', () => resolve()));
    try {
      await withTimeout(async () => {
        await client.quit();
        if (client.status !== 'end') await ended;
      }, this.#options.timeoutMs);
    } catch {
      client.disconnect();
    }
  }

  /** Sweeps one expiry index (see {@link sweep}) until no member below `now` is left. */
  async #sweepIndex(tag: string, now: number, options: SweepOptions): Promise<number> {
    const { prefix } = this.#options;
    const index = expiryIndexKey(prefix, tag);
    let removed = 0;
    for (;;) {
      const members = await this.#call(() =>
        this.client.zrangebyscore(index, '-inf', `(${now}`, 'LIMIT', 0, SWEEP_BATCH),
      );
      if (members.length === 0) return removed;
      const keys = members.map((member) => redisKey(prefix, member));
      const batch = (await this.#call(() =>
        this.#scripted(SWEEP_COMMAND)(keys.length + 1, index, ...keys, now, ...members),
      )) as string[];
      removed += batch.length;
      if (batch.length > 0) options.onRemoved?.(batch);
      // A full batch of which nothing could be removed would be read again at once, forever
      // (an index read that lags the master's, as during a failover): leave it for the next sweep.
      if (members.length < SWEEP_BATCH || batch.length === 0) return removed;
    }
  }

  /**
   * Runs a writing script; with `waitReplicas`, sends `WAIT` right behind it (one round
   * trip, to the same node: a pipeline goes to the node of its keys) and, when the script
   * wrote something (`wrote(reply)`), fails with `StoreUnavailableError` if too few replicas
   * acknowledged it in time. A refused commit wrote nothing, so it stays a refusal.
   */
  async #write(command: string, args: (string | number)[], wrote: (reply: unknown) => boolean): Promise<unknown> {
    const { waitReplicas, waitMs } = this.#options;
    if (waitReplicas === 0) return this.#call(() => this.#scripted(command)(...args));
    const results = await this.#call(async () => {
      const calls = [{ command, args }];
      const wait = { replicas: waitReplicas, ms: waitMs };
      // A redirected script did not run: it is sent again where the redirection says (redirects.ts).
      let resend: Resend | undefined;
      for (let sent = 1; ; sent++) {
        const replies = await sendScripts(this.client, calls, wait, resend?.importing);
        resend = sent < MAX_SENDS ? resendOf(this.client, replies[0]?.[0]) : undefined;
        if (resend === undefined) return replies;
        await prepareResends(this.client, [resend]);
      }
    });
    const [[scriptError, reply] = [null, undefined], [waitError, acked] = [null, 0]] = results;
    if (scriptError) throw mapRedisError(scriptError);
    if (!wrote(reply)) return reply;
    if (waitError) throw mapRedisError(waitError);
    if ((acked as number) < waitReplicas) {
      throw new StoreUnavailableError(
        `RedisStore: the write reached the master but only ${acked} of ${waitReplicas} replicas acknowledged it within ${waitMs} ms (waitReplicas); a failover could lose it`,
      );
    }
    return reply;
  }

  /**
   * Cluster's second step of a regenerate: delete the old record, or undo the new one if
   * the old was gone (`ConflictError('gone')`) or changed since the regenerate loaded it
   * (`ConflictError('version')`; the old record then stays as it is).
   */
  async #retire(key: string, delta: SessionDelta, now: number): Promise<void> {
    const replaced = this.#key(delta.replaces as string);
    let retired: unknown;
    try {
      const index = this.#indexOf(delta.replaces as string);
      const args = [replaced, index, now, ...replacedArgs(delta)];
      retired = await this.#write(RETIRE_COMMAND, args, (reply) => reply !== 2);
    } catch (error) {
      await this.destroy(key).catch(() => {});
      throw error;
    }
    if (retired !== 1) {
      await this.destroy(key);
      throw new ConflictError(retired === 2 ? 'version' : 'gone');
    }
  }

  /** Runs one call within the timeout, first waiting (inside the same bound) for a connection being made. */
  #call<T>(task: () => Promise<T>): Promise<T> {
    return withTimeout(async () => {
      await this.#ready();
      return task();
    }, this.#options.timeoutMs);
  }

  /**
   * Resolves once the client is connected. A client that lost its server fails at once
   * (it is backing off between reconnects); one still connecting is waited for.
   */
  #ready(): Promise<void> {
    const { client } = this;
    switch (client.status) {
      case 'ready':
        return Promise.resolve();
      case 'end':
        return Promise.reject(new StoreUnavailableError('RedisStore: the store was closed'));
      case 'reconnecting':
      case 'close':
        return Promise.reject(
          new StoreUnavailableError(
            `RedisStore: the connection to Redis is down (${client.status}, reconnecting by itself); check that the server is running and reachable`,
            { cause: this.#lastError ?? new Error(`ioredis client status: ${client.status}`) },
          ),
        );
      case 'wait':
        client.connect().catch(() => {});
    }
    // A connection attempt that is refused fails the waiting calls at once, not at the timeout.
    this.#readyWait ??= new Promise<void>((resolve, reject) => {
      const settle = (error?: StoreUnavailableError) => {
        client.off('ready', onReady).off('close', onClose);
        this.#readyWait = undefined;
        if (error) reject(error);
        else resolve();
      };
      const onReady = () => settle();
      const onClose = () =>
        settle(
          new StoreUnavailableError('RedisStore: the connection to Redis was refused or lost while connecting', {
            cause: this.#lastError ?? new Error('ioredis client closed while connecting'),
          }),
        );
      client.once('ready', onReady).once('close', onClose);
    });
    return this.#readyWait;
  }

  #key(clientKey: string): string {
    return redisKey(this.#options.prefix, clientKey);
  }

  /** The expiry index of a client's record: the one of its slot on Cluster, else the one index. */
  #indexOf(clientKey: string): string {
    const tag = this.client.isCluster ? (slotTags()[keySlot(this.#key(clientKey))] as string) : '';
    return expiryIndexKey(this.#options.prefix, tag);
  }

  #scripted(name: string): (...args: (string | number)[]) => Promise<unknown> {
    const command = (this.client as unknown as Scripted)[name] as Scripted[string];
    return command.bind(this.client);
  }
}

/** True when the record's principal entry holds exactly `encoded`. */
function holdsPrincipal(record: StoredSession, encoded: string): boolean {
  const id = entryId(INTERNAL_PACKAGE, PRINCIPAL_KEY);
  return record.entries.some((e) => entryId(e.pkg, e.key) === id && e.value === encoded);
}
