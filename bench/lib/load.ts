/**
 * Load rounds against a server child, driven by the load generator in its own process
 * (`load-worker.ts`), and the workloads they run: one session, or many sessions chosen
 * at random per request. Only 2xx answers count as served requests.
 */
import { type ChildProcess, fork } from 'node:child_process';
import type { ServerChild } from './child.js';
import { SOURCE_FLAGS } from './child.js';

/** What the bench asks the load generator for. */
export interface LoadRequest {
  id: number;
  url: string;
  connections: number;
  /** Seconds of load, unless `amount` is given. */
  seconds?: number;
  /** Exactly this many requests, every answer in. */
  amount?: number;
  /** Cookie headers: each request carries one, chosen at random (one entry: always that one). */
  cookies?: readonly string[];
  /** Collect the `Set-Cookie` of every answer as a Cookie header (to seed sessions). */
  collect?: boolean;
}

/** What one run of the load generator saw. */
export interface LoadResult {
  id: number;
  /** 2xx answers: the only ones counted as served. */
  ok: number;
  non2xx: number;
  /** Of the non-2xx: 409 Conflict. */
  conflicts: number;
  errors: number;
  seconds: number;
  p99: number;
  cookies?: string[];
}

/** The load generator process. */
export class LoadGenerator {
  readonly #child: ChildProcess;
  #next = 0;

  constructor() {
    this.#child = fork(new URL('./load-worker.ts', import.meta.url).pathname, [], {
      execArgv: SOURCE_FLAGS,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
  }

  run(request: Omit<LoadRequest, 'id'>): Promise<LoadResult> {
    const id = ++this.#next;
    return new Promise((resolve) => {
      const onMessage = (message: LoadResult) => {
        if (message.id !== id) return;
        this.#child.off('message', onMessage);
        resolve(message);
      };
      this.#child.on('message', onMessage);
      this.#child.send({ ...request, id });
    });
  }

  close(): void {
    this.#child.disconnect();
  }
}

/** The requests a round sends: to one session, or to many chosen at random per request. */
export interface Workload {
  readonly name: 'one' | 'many';
  readonly cookies: readonly string[];
}

/** What one round measured. */
export interface RoundResult {
  /** 2xx answers per second: a 409 or any other non-2xx is never a served request. */
  rps: number;
  /** 99th percentile latency, ms. */
  p99: number;
  /** Server CPU time per request the server handled in the round, µs. */
  cpuUsPerRequest: number;
  /** Requests the server handled in the round. */
  requests: number;
  /** Store writes the server made in the round. */
  writes: number;
  /** Answers that were not 2xx. */
  non2xx: number;
  /** Of the non-2xx: 409 Conflict, a concurrent update of the same key refused rather than lost. */
  conflicts: number;
  errors: number;
  /** For /write on one session: 2xx responses minus the counter's actual increase (updates lost). */
  lost?: number;
  /** Store commands in the round by name: counted on the Redis server, or by the server child (PostgreSQL). */
  commands?: Record<string, number>;
}

/** A snapshot of command counts by name (e.g. Redis `INFO commandstats`). */
export type CommandSnapshot = () => Promise<Record<string, number>>;

/** `after - before` per name, zeros left out. */
export function diffCounts(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, value] of Object.entries(after)) {
    const delta = value - (before[name] ?? 0);
    if (delta !== 0) out[name] = delta;
  }
  return out;
}

/**
 * Creates `count` sessions with /write requests that carry no cookie, and returns the
 * Cookie header of each (an empty list when the server sets none). Also what the server
 * grew by (after full GCs, with --expose-gc) per request, for memory per session.
 */
export async function seedSessions(
  load: LoadGenerator,
  child: ServerChild,
  count: number,
  external?: () => Promise<number>,
): Promise<Seeded & { cookies: string[] }> {
  const before = await child.stats(true);
  const externalBefore = external ? await external() : 0;
  const result = await load.run({
    url: `http://127.0.0.1:${child.port}/write`,
    connections: 10,
    amount: count,
    collect: true,
  });
  const externalAfter = external ? await external() : 0;
  const after = await child.stats(true);
  const requests = after.requests - before.requests;
  return {
    cookies: (result.cookies ?? []).filter((c) => c !== ''),
    requests,
    rssPerRequest: (after.rss - before.rss) / requests,
    heapPerRequest: (after.heapUsed - before.heapUsed) / requests,
    ...(external && { externalPerRequest: (externalAfter - externalBefore) / requests }),
  };
}

/** What a server grew by per seeding request (the cookies themselves stay out of the report). */
export interface Seeded {
  requests: number;
  /** RSS growth of the server per request (after full GCs). */
  rssPerRequest: number;
  heapPerRequest: number;
  /** Growth of an external store's memory (Redis `used_memory`) per request. */
  externalPerRequest?: number;
}

/** Cookie headers shaped like a session's, for servers without sessions, so every case sends the same bytes. */
export function syntheticCookies(count: number, name = 'tsession'): string[] {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const random = (n: number) => Array.from({ length: n }, () => alphabet[Math.floor(Math.random() * 64)]).join('');
  return Array.from({ length: count }, () => `${name}=${random(24)}.${random(43)}`);
}

/** Reads the counter through /read. */
export async function readCounter(child: ServerChild, cookie: string): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${child.port}/read`, { headers: cookie ? { cookie } : {} });
  return Number(await response.text());
}

/** Runs the load generator for `seconds` against `path` in `workload`, bracketed by the server's own stats. */
export async function round(
  load: LoadGenerator,
  child: ServerChild,
  path: string,
  workload: Workload,
  seconds: number,
  connections: number,
  storeCommands?: CommandSnapshot,
): Promise<RoundResult> {
  const one = workload.name === 'one' ? workload.cookies[0] : undefined;
  const counts = path === '/write' && one !== undefined;
  const before = counts ? await readCounter(child, one) : 0;
  const start = await child.stats();
  const commandsBefore = storeCommands ? await storeCommands() : {};
  const result = await load.run({
    url: `http://127.0.0.1:${child.port}${path}`,
    connections,
    seconds,
    cookies: workload.cookies,
  });
  const commandsAfter = storeCommands ? await storeCommands() : {};
  const end = await child.stats();
  const after = counts ? await readCounter(child, one) : 0;
  const requests = end.requests - start.requests;
  const commands = { ...diffCounts(end.commands, start.commands), ...diffCounts(commandsAfter, commandsBefore) };
  return {
    rps: result.ok / result.seconds,
    p99: result.p99,
    cpuUsPerRequest: (end.cpuUs - start.cpuUs) / requests,
    requests,
    writes: end.writes - start.writes,
    non2xx: result.non2xx,
    conflicts: result.conflicts,
    errors: result.errors,
    ...(counts && { lost: result.ok - (after - before) }),
    ...(Object.keys(commands).length > 0 && { commands }),
  };
}

/** What `amount` /write requests from `connections` clients on one session did to its counter. */
export interface LostIncrements {
  connections: number;
  requests: number;
  /** 2xx answers: increments the server acknowledged. */
  acknowledged: number;
  /** 409 answers: updates refused as conflicting (the client is told; nothing is lost). */
  conflicts: number;
  /** Other non-2xx answers and connection errors. */
  failed: number;
  /** The counter's increase. */
  increase: number;
  /** Acknowledged increments that are not in the counter. */
  lost: number;
}

/** Sends exactly `amount` /write requests over `connections` connections on one session; every answer is in before it counts. */
export async function lostIncrements(
  load: LoadGenerator,
  child: ServerChild,
  cookie: string,
  connections: number,
  amount: number,
): Promise<LostIncrements> {
  const before = await readCounter(child, cookie);
  const result = await load.run({
    url: `http://127.0.0.1:${child.port}/write`,
    connections,
    amount,
    cookies: [cookie],
  });
  const increase = (await readCounter(child, cookie)) - before;
  return {
    connections,
    requests: amount,
    acknowledged: result.ok,
    conflicts: result.conflicts,
    failed: result.non2xx - result.conflicts + result.errors,
    increase,
    lost: result.ok - increase,
  };
}

/** Store commands per request from `amount` requests to `path` (10 connections), counted by `monitor` around them. */
export async function countedCommands(
  load: LoadGenerator,
  child: ServerChild,
  path: string,
  workload: Workload,
  amount: number,
  monitor: (run: () => Promise<void>) => Promise<Record<string, number>>,
): Promise<{ requests: number; commands: Record<string, number> }> {
  const start = await child.stats();
  const commands = await monitor(async () => {
    await load.run({
      url: `http://127.0.0.1:${child.port}${path}`,
      connections: 10,
      amount,
      cookies: workload.cookies,
    });
  });
  const end = await child.stats();
  return { requests: end.requests - start.requests, commands };
}
