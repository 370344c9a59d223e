/** The servers and the HTTP cases the bench runs, in the order each round visits them. */

/** A server child: `bench/servers/<script>.ts` with `args`. */
export interface ServerSpec {
  readonly id: string;
  readonly script: string;
  readonly args: readonly string[];
  /** Serves a session (so it gets a cookie, and its writes per read are checked). */
  readonly session: boolean;
  /** What the table calls it. */
  readonly label: string;
  /** The same framework without sessions, for the session layer's share. */
  readonly framework: string;
  /** A peer, not tsession. */
  readonly peer: boolean;
  /** Where the sessions live: Redis and PostgreSQL cases get their commands counted. */
  readonly store: 'none' | 'memory' | 'sqlite' | 'redis' | 'postgres';
  /** The peer server this tsession case is compared with (same framework and kind of store where one exists). */
  readonly peerId?: string;
  /** Left out of `--quick` runs. */
  readonly fullOnly?: boolean;
  /** Where it goes in the chart: a group (framework and store) and which bar of it. */
  readonly chart?: { readonly group: string; readonly bar: 'framework' | 'tsession' | 'peer' };
}

function server(
  id: string,
  script: string,
  args: string[],
  label: string,
  framework: string,
  store: ServerSpec['store'],
  extra: Partial<ServerSpec> = {},
): ServerSpec {
  return { id, script, args, label, framework, store, session: store !== 'none', peer: false, ...extra };
}

/** The two workloads every case runs in: one session for all requests, or 10,000 chosen at random per request. */
export type WorkloadName = 'one' | 'many';

/** One server, one endpoint, one workload. */
export interface CaseSpec {
  /** `<server> <path> <workload>`, e.g. `tsession-memory /read many`. */
  readonly id: string;
  readonly server: ServerSpec;
  readonly path: '/read' | '/write';
  readonly workload: WorkloadName;
}

/** The id of the case of `server` on the same endpoint and workload as `c`. */
export function sibling(c: Pick<CaseSpec, 'path' | 'workload'>, server: string): string {
  return `${server} ${c.path} ${c.workload}`;
}

export const SERVERS: readonly ServerSpec[] = [
  server('bare', 'bare', [], 'bare node:http, no session', 'bare', 'none', {
    chart: { group: 'node:http, memory', bar: 'framework' },
  }),
  server('tsession-memory', 'tsession', ['memory'], 'tsession/http + MemoryStore', 'bare', 'memory', {
    chart: { group: 'node:http, memory', bar: 'tsession' },
  }),
  server(
    'tsession-direct',
    'tsession-direct',
    [],
    'tsession core + MemoryStore, no adapter (handler commits itself)',
    'bare',
    'memory',
    { fullOnly: true },
  ),
  server('tsession-sqlite', 'tsession', ['sqlite'], 'tsession/http + SqliteStore', 'bare', 'sqlite', {
    fullOnly: true,
    chart: { group: 'node:http, SQLite', bar: 'tsession' },
  }),
  server('tsession-redis', 'tsession', ['redis'], 'tsession/http + RedisStore', 'bare', 'redis', {
    peerId: 'express-session-redis',
    chart: { group: 'Redis, node:http vs Express', bar: 'tsession' },
  }),
  server('tsession-postgres', 'tsession', ['postgres'], 'tsession/http + PostgresStore', 'bare', 'postgres', {
    chart: { group: 'node:http, PostgreSQL', bar: 'tsession' },
  }),
  server('express', 'express', [], 'Express 5, no session', 'express', 'none', {
    chart: { group: 'Express 5, memory', bar: 'framework' },
  }),
  server('express-tsession', 'express-tsession', [], 'Express 5 + tsession/express, MemoryStore', 'express', 'memory', {
    peerId: 'express-session',
    chart: { group: 'Express 5, memory', bar: 'tsession' },
  }),
  server(
    'express-session',
    'express-session',
    ['memory'],
    'Express 5 + express-session, MemoryStore',
    'express',
    'memory',
    {
      peer: true,
      chart: { group: 'Express 5, memory', bar: 'peer' },
    },
  ),
  server(
    'express-session-redis',
    'express-session',
    ['redis'],
    'Express 5 + express-session + connect-redis 9 (node-redis 5)',
    'express',
    'redis',
    { peer: true, chart: { group: 'Redis, node:http vs Express', bar: 'peer' } },
  ),
  server('fastify', 'fastify', ['bare'], 'Fastify 5, no session', 'fastify', 'none', {
    chart: { group: 'Fastify 5, memory', bar: 'framework' },
  }),
  server(
    'fastify-tsession',
    'fastify',
    ['tsession'],
    'Fastify 5 + tsession/fastify, MemoryStore',
    'fastify',
    'memory',
    {
      peerId: 'fastify-session',
      chart: { group: 'Fastify 5, memory', bar: 'tsession' },
    },
  ),
  server(
    'fastify-session',
    'fastify',
    ['peer'],
    'Fastify 5 + @fastify/session (rolling off), its MemoryStore',
    'fastify',
    'memory',
    { peer: true, chart: { group: 'Fastify 5, memory', bar: 'peer' } },
  ),
  server('koa', 'koa', ['bare'], 'Koa 3, no session', 'koa', 'none', {
    chart: { group: 'Koa 3, memory', bar: 'framework' },
  }),
  server('koa-tsession', 'koa', ['tsession'], 'Koa 3 + tsession/koa, MemoryStore', 'koa', 'memory', {
    peerId: 'koa-session',
    chart: { group: 'Koa 3, memory', bar: 'tsession' },
  }),
  server('koa-session', 'koa', ['peer'], 'Koa 3 + koa-session, external Map store', 'koa', 'memory', {
    peer: true,
    chart: { group: 'Koa 3, memory', bar: 'peer' },
  }),
  server('hono', 'hono', ['bare'], 'Hono 4 (@hono/node-server), no session', 'hono', 'none', {
    chart: { group: 'Hono 4, memory', bar: 'framework' },
  }),
  server('hono-tsession', 'hono', ['tsession'], 'Hono 4 + tsession/hono, MemoryStore', 'hono', 'memory', {
    peerId: 'hono-sessions',
    chart: { group: 'Hono 4, memory', bar: 'tsession' },
  }),
  server('hono-sessions', 'hono', ['peer'], 'Hono 4 + hono-sessions, its MemoryStore', 'hono', 'memory', {
    peer: true,
    chart: { group: 'Hono 4, memory', bar: 'peer' },
  }),
];

/** Every server's read and write case in both workloads: many sessions first, reads first. */
export function casesFor(servers: readonly ServerSpec[]): CaseSpec[] {
  return (['many', 'one'] as const).flatMap((workload) =>
    (['/read', '/write'] as const).flatMap((path) =>
      servers.map((server) => ({ id: sibling({ path, workload }, server.id), server, path, workload })),
    ),
  );
}
