/**
 * Redis Cluster redirections that ioredis leaves to the store. ioredis follows `MOVED` and
 * `ASK` for a single command, and resends a pipeline whose every command got the same
 * redirection, but not a pipeline in which another command ran. Two of the store's
 * pipelines are like that: a durable write (the script, then `WAIT`, which answers whatever
 * node it reaches) and a bulk-import pipeline spanning several slots of one node. A
 * redirected script did not run, so the store sends it again ({@link resendOf}): after
 * reading the slot map again for `MOVED` (the slot has moved); to the importing node after
 * `ASKING` for `ASK` (the slot is migrating and the key has moved already); a little later
 * for `TRYAGAIN` (the slot is migrating and the script's keys are split between the nodes).
 * At most {@link MAX_SENDS} times, within the caller's timeout.
 *
 * @module
 */
import type { Cluster, Redis } from 'ioredis';
import { ioredis } from './options.js';
import { SCRIPTS } from './scripts.js';

/** One script call: a command of {@link SCRIPTS} and its arguments. */
export interface ScriptCall {
  readonly command: string;
  readonly args: readonly (string | number)[];
}

/** How many times a redirected call is sent in all: ioredis's own `maxRedirections`. */
export const MAX_SENDS = 16;
/** The wait before sending again after TRYAGAIN, as ioredis's own `retryDelayOnTryAgain`. */
const TRY_AGAIN_MS = 100;

/** Where and when to send a redirected call again. */
export interface Resend {
  /** Read the slot map again first (MOVED). */
  readonly refresh: boolean;
  /** The node importing the slot, to send to after ASKING (ASK). */
  readonly importing?: Redis;
  /** Wait this long first (TRYAGAIN). */
  readonly delayMs: number;
}

/** How to send again a call answered `error`, when it is a redirection (the call did not run); undefined otherwise. */
export function resendOf(client: Redis | Cluster, error: unknown): Resend | undefined {
  if (!client.isCluster || !(error instanceof ioredis().ReplyError)) return undefined;
  if (isMoved(error)) return { refresh: true, delayMs: 0 };
  const importing = askedNode(client, error);
  if (importing) return { refresh: false, importing, delayMs: 0 };
  if ((error as Error).message.startsWith('TRYAGAIN')) return { refresh: false, delayMs: TRY_AGAIN_MS };
  return undefined;
}

/** Does what the resends ask before they go: reads the slot map again once, waits the longest delay. */
export async function prepareResends(client: Redis | Cluster, resends: readonly Resend[]): Promise<void> {
  if (resends.some((r) => r.refresh)) await refreshSlots(client);
  const delayMs = Math.max(0, ...resends.map((r) => r.delayMs));
  if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
}

/** The replies of a pipeline, one `[error, reply]` per command. */
export type Replies = [Error | null, unknown][];

/** True for a `MOVED` reply: the command reached a node that no longer serves its slot, and did not run. */
function isMoved(error: unknown): boolean {
  return error instanceof ioredis().ReplyError && (error as Error).message.startsWith('MOVED ');
}

/** Re-reads a Cluster client's slot map (nothing to do on standalone Redis). */
function refreshSlots(client: Redis | Cluster): Promise<void> {
  if (!client.isCluster) return Promise.resolve();
  return new Promise((resolve, reject) =>
    (client as Cluster).refreshSlotsCache((error) => (error ? reject(error) : resolve())),
  );
}

/**
 * The master an `ASK` reply redirects to (`ASK <slot> <host>:<port>`), among the Cluster
 * client's connections; undefined for any other reply, or a node the client has no
 * connection to (the request then fails as the reply says).
 */
function askedNode(client: Redis | Cluster, error: unknown): Redis | undefined {
  if (!client.isCluster || !(error instanceof ioredis().ReplyError)) return undefined;
  const address = /^ASK \d+ (\S+)$/.exec((error as Error).message)?.[1];
  if (address === undefined) return undefined;
  return (client as Cluster).nodes('master').find((node) => `${node.options.host}:${node.options.port}` === address);
}

/** `WAIT` for `replicas` within `ms` after the calls (0 replicas: no WAIT). */
export interface WaitFor {
  readonly replicas: number;
  readonly ms: number;
}

/**
 * Sends `calls` and then a `WAIT` in one pipeline: through `client`'s own routing (to the
 * node it maps the first key's slot to), or, with `importing`, to that node, each call
 * after `ASKING` and as EVAL (the node may not have the script cached). On the node's own
 * connection, so the `WAIT` counts these writes. Resolves one reply per call, then the WAIT's.
 */
export async function sendScripts(
  client: Redis | Cluster,
  calls: readonly ScriptCall[],
  wait: WaitFor,
  importing?: Redis,
): Promise<Replies> {
  if (importing === undefined) {
    const pipeline = client.pipeline() as unknown as Record<string, (...args: unknown[]) => unknown> & {
      exec(): Promise<Replies | null>;
      wait(replicas: number, ms: number): unknown;
    };
    for (const call of calls) pipeline[call.command]?.(...call.args);
    if (wait.replicas > 0) pipeline.wait(wait.replicas, wait.ms);
    return (await pipeline.exec()) ?? [];
  }
  const pipeline = importing.pipeline();
  for (const call of calls) {
    const { lua, numberOfKeys } = SCRIPTS[call.command] as (typeof SCRIPTS)[string];
    const args = numberOfKeys === undefined ? call.args : [numberOfKeys, ...call.args];
    pipeline.asking();
    pipeline.eval(lua, ...(args as [number, ...(string | number)[]]));
  }
  if (wait.replicas > 0) pipeline.wait(wait.replicas, wait.ms);
  const replies = (await pipeline.exec()) ?? [];
  // Every other reply before the WAIT is an ASKING's OK.
  return replies.filter((_, i) => i >= calls.length * 2 || i % 2 === 1);
}
