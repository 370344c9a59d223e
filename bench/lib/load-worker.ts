/**
 * The load generator's own process: runs autocannon when the bench asks over IPC, so
 * the bench's event loop (stats, logging) never shares the load generator's CPU time
 * and the load generator's never shares the bench's. Each run picks, per request, one
 * cookie of the list it was given (a random one: the many-sessions workload), and can
 * collect the cookies the server sets (to seed sessions).
 */
import autocannon from 'autocannon';
import type { LoadRequest, LoadResult } from './load.js';

process.on('message', async (message: LoadRequest) => {
  const result = await run(message);
  process.send?.(result);
});
process.on('disconnect', () => process.exit(0));

async function run(request: LoadRequest): Promise<LoadResult> {
  const { cookies = [], collect = false } = request;
  const collected: string[] = [];
  const result = await autocannon({
    url: request.url,
    connections: request.connections,
    ...(request.amount !== undefined ? { amount: request.amount } : { duration: request.seconds ?? 1 }),
    timeout: 30,
    requests: [
      {
        setupRequest: (req: { headers?: Record<string, string> }) => {
          const cookie = cookies.length === 1 ? cookies[0] : cookies[Math.floor(Math.random() * cookies.length)];
          if (cookie) req.headers = { ...req.headers, cookie };
          return req;
        },
        ...(collect && {
          onResponse: (
            _status: number,
            _body: string,
            _context: unknown,
            headers: Record<string, string | string[]>,
          ) => {
            const set = headers['set-cookie'] ?? headers['Set-Cookie'];
            const values = Array.isArray(set) ? set : set ? [set] : [];
            if (values.length > 0) collected.push(values.map((c) => c.split(';')[0]).join('; '));
          },
        }),
      },
    ],
  } as never);
  const statuses = (result as { statusCodeStats?: Record<string, { count: number }> }).statusCodeStats ?? {};
  return {
    id: request.id,
    ok: result['2xx'],
    non2xx: result.non2xx,
    conflicts: statuses['409']?.count ?? 0,
    errors: result.errors + result.timeouts,
    seconds: result.duration,
    p99: result.latency.p99,
    ...(collect && { cookies: collected }),
  };
}
