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
): Promise<RoundResult> {
  const counts = path === '/write' && cookie !== '';
  const before = counts ? await readCounter(child, cookie) : 0;
  const start = await child.stats();
  const result = await autocannon({
    url: `http://127.0.0.1:${child.port}${path}`,
    connections,
    duration: seconds,
    headers: cookie ? { cookie } : {},
  });
  const end = await child.stats();
  const after = counts ? await readCounter(child, cookie) : 0;
  const requests = end.requests - start.requests;
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
  };
}
