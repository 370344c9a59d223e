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
}

/** One server and one endpoint. */
export interface CaseSpec {
  readonly id: string;
  readonly server: ServerSpec;
  readonly path: '/read' | '/write';
}

export const SERVERS: readonly ServerSpec[] = [
  {
    id: 'bare',
    script: 'bare',
    args: [],
    session: false,
    label: 'bare node:http, no session',
    framework: 'bare',
    peer: false,
  },
  {
    id: 'tsession-memory',
    script: 'tsession',
    args: ['memory'],
    session: true,
    label: 'tsession/http + MemoryStore',
    framework: 'bare',
    peer: false,
  },
  {
    id: 'tsession-direct',
    script: 'tsession-direct',
    args: [],
    session: true,
    label: 'tsession core + MemoryStore, no adapter (handler commits itself)',
    framework: 'bare',
    peer: false,
  },
  {
    id: 'tsession-sqlite',
    script: 'tsession',
    args: ['sqlite'],
    session: true,
    label: 'tsession/http + SqliteStore',
    framework: 'bare',
    peer: false,
  },
  {
    id: 'tsession-redis',
    script: 'tsession',
    args: ['redis'],
    session: true,
    label: 'tsession/http + RedisStore',
    framework: 'bare',
    peer: false,
  },
  {
    id: 'express',
    script: 'express',
    args: [],
    session: false,
    label: 'Express 5, no session',
    framework: 'express',
    peer: true,
  },
  {
    id: 'express-session',
    script: 'express-session',
    args: [],
    session: true,
    label: 'Express 5 + express-session, MemoryStore',
    framework: 'express',
    peer: true,
  },
];

/** Every server's read and write case, reads first. */
export function casesFor(servers: readonly ServerSpec[]): CaseSpec[] {
  return (['/read', '/write'] as const).flatMap((path) =>
    servers.map((server) => ({ id: `${server.id} ${path}`, server, path })),
  );
}
