/** One load round with autocannon against a server child, and the session cookie it uses. */
import autocannon from 'autocannon';
import type { ServerChild } from './child.js';

/** What one round measured. */
export interface RoundResult {
  /** Completed requests per second, as autocannon counted them. */
  rps: number;
  /** 99th percentile latency, ms. */
  p99: number;
  /** Server CPU time per request the server handled in the round, µs. */
  cpuUsPerRequest: number;
  /** Requests the server handled in the round. */
  requests: number;
  /** Store writes the server made in the round. */
  writes: number;
  /** Responses that were not 2xx, and connection errors. */
  non2xx: number;
  /** Of the non-2xx: 409 Conflict, a concurrent update of the same key refused rather than lost. */
  conflicts: number;
  errors: number;
  /** For /write on a session: 2xx responses minus the counter's actual increase (updates lost). */
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

/** Makes one request that creates a session and returns the `Cookie` header that carries it ('' if none). */
export async function createSession(child: ServerChild): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${child.port}/write`);
  await response.text();
  return response.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
}

/** Reads the counter through /read. */
export async function readCounter(child: ServerChild, cookie: string): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${child.port}/read`, { headers: cookie ? { cookie } : {} });
  return Number(await response.text());
}

/** Runs autocannon for `seconds` against `path`, bracketed by the server's own stats. */
export async function round(
  child: ServerChild,
  path: string,
  cookie: string,
  seconds: number,
  connections: number,
  storeCommands?: CommandSnapshot,
): Promise<RoundResult> {
  const counts = path === '/write' && cookie !== '';
  const before = counts ? await readCounter(child, cookie) : 0;
  const start = await child.stats();
  const commandsBefore = storeCommands ? await storeCommands() : {};
  const result = await autocannon({
    url: `http://127.0.0.1:${child.port}${path}`,
    connections,
    duration: seconds,
    headers: cookie ? { cookie } : {},
  });
  const commandsAfter = storeCommands ? await storeCommands() : {};
  const end = await child.stats();
  const after = counts ? await readCounter(child, cookie) : 0;
  const requests = end.requests - start.requests;
  const commands = { ...diffCounts(end.commands, start.commands), ...diffCounts(commandsAfter, commandsBefore) };
  return {
    rps: result.requests.total / result.duration,
    p99: result.latency.p99,
    cpuUsPerRequest: (end.cpuUs - start.cpuUs) / requests,
    requests,
    writes: end.writes - start.writes,
    non2xx: result.non2xx,
    conflicts: result.statusCodeStats?.['409']?.count ?? 0,
    errors: result.errors,
    ...(counts && { lost: result['2xx'] - (after - before) }),
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
  child: ServerChild,
  cookie: string,
  connections: number,
  amount: number,
): Promise<LostIncrements> {
  const before = await readCounter(child, cookie);
  const result = await autocannon({
    url: `http://127.0.0.1:${child.port}/write`,
    connections,
    amount,
    timeout: 30,
    headers: { cookie },
  });
  const increase = (await readCounter(child, cookie)) - before;
  const conflicts = result.statusCodeStats?.['409']?.count ?? 0;
  return {
    connections,
    requests: amount,
    acknowledged: result['2xx'],
    conflicts,
    failed: result.non2xx - conflicts + result.errors,
    increase,
    lost: result['2xx'] - increase,
  };
}

/** Live heap and RSS per session the server holds, from creating sessions (a /write with no cookie each) for `seconds`. */
export interface MemoryPerSession {
  sessions: number;
  heapBytesPerSession: number;
  rssBytesPerSession: number;
  /** Growth of an external store's memory (Redis `used_memory`) per session. */
  externalBytesPerSession?: number;
}

/**
 * Needs a child started with --expose-gc: its stats after a full GC, before and after the
 * sessions; `external` reads a store server's memory in bytes.
 */
export async function memoryPerSession(
  child: ServerChild,
  seconds: number,
  external?: () => Promise<number>,
): Promise<MemoryPerSession> {
  const before = await child.stats(true);
  const externalBefore = external ? await external() : 0;
  await autocannon({ url: `http://127.0.0.1:${child.port}/write`, connections: 10, duration: seconds });
  const externalAfter = external ? await external() : 0;
  const after = await child.stats(true);
  const sessions = after.requests - before.requests;
  return {
    sessions,
    heapBytesPerSession: (after.heapUsed - before.heapUsed) / sessions,
    rssBytesPerSession: (after.rss - before.rss) / sessions,
    ...(external && { externalBytesPerSession: (externalAfter - externalBefore) / sessions }),
  };
}

/** Store commands per request from `amount` requests to `path` (10 connections), counted by `monitor` around them. */
export async function countedCommands(
  child: ServerChild,
  path: string,
  cookie: string,
  amount: number,
  monitor: (run: () => Promise<void>) => Promise<Record<string, number>>,
): Promise<{ requests: number; commands: Record<string, number> }> {
  const start = await child.stats();
  const commands = await monitor(async () => {
    await autocannon({ url: `http://127.0.0.1:${child.port}${path}`, connections: 10, amount, headers: { cookie } });
  });
  const end = await child.stats();
  return { requests: end.requests - start.requests, commands };
}
