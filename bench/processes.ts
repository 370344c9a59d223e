/**
 * Issue 13 §5: 1 to 4 app processes with no affinity over one store, measured. Each app
 * is `test/distributed/app.ts` (node:http + tsession) in a child process; one load
 * generator (this process) keeps `--concurrency` requests in flight over `--sessions`
 * sessions, each request to the next process in turn (so consecutive requests of a
 * session land on different processes), 80% `GET /read`, 20% `GET /set?key=w<n>` (a
 * write of a new key). After each run every session is dumped and checked against the
 * ledger of acknowledged writes: every key answered 200 must be there, and nothing else
 * may be except writes answered 503 (counted apart). Reports requests/s, p50/p99 and
 * requests per CPU-second of the app processes (user + system from /proc), per store
 * and process count. Timed: run it on a quiet machine.
 *
 *   node --conditions=tsession-source --import tsx bench/processes.ts [--sessions 10000] [--requests 40000]
 *        [--concurrency 64] [--max-processes 4] [--stores redis-cluster,postgres] [--json]
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { Pool } from 'pg';
import { type AppProcess, CookieClient, startApp } from '../test/distributed/processes.js';
import { type RedisCluster, startRedisCluster } from '../test/support/redis-cluster.js';
import { emit, numberFlag } from './lib/args.js';

const SESSIONS = numberFlag('sessions', 10_000);
const REQUESTS = numberFlag('requests', 40_000);
const CONCURRENCY = numberFlag('concurrency', 64);
const MAX_PROCESSES = numberFlag('max-processes', 4);
const storesAt = process.argv.indexOf('--stores');
const STORES = (storesAt >= 0 ? (process.argv[storesAt + 1] ?? '') : 'redis-cluster,postgres').split(',');
const POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test';
const SECRET = 'bench-processes-secret-of-enough-length';

interface Row {
  store: string;
  processes: number;
  requests: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Requests per CPU-second of the app processes together. */
  requestsPerCpuSecond: number;
  acknowledgedWrites: number;
  lostWrites: number;
  unexpectedKeys: number;
  failed: number;
}

/** User + system CPU seconds of a process so far, from /proc/<pid>/stat (clock ticks of 1/100 s). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;

async function run(store: string, env: Record<string, string>, processes: number): Promise<Row> {
  const apps: AppProcess[] = [];
  for (let i = 0; i < processes; i++) apps.push(await startApp(env));
  try {
    const clients = Array.from({ length: SESSIONS }, () => new CookieClient());
    const acknowledged = clients.map(() => new Set<string>());
    const unacknowledged = clients.map(() => new Set<string>());
    let turn = 0;
    const nextApp = () => apps[turn++ % apps.length] as AppProcess;
    // Every session exists before the timed part (its cookie set by a first write).
    for (let i = 0; i < SESSIONS; i += CONCURRENCY) {
      await Promise.all(clients.slice(i, i + CONCURRENCY).map((c) => c.get(nextApp(), '/set?key=init')));
    }
    for (const ledger of acknowledged) ledger.add('init');
    const cpuBefore = apps.reduce((sum, a) => sum + cpuSeconds(a.pid), 0);
    const latencies: number[] = [];
    let failed = 0;
    let sent = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (sent < REQUESTS) {
          const n = sent++;
          const s = (n * 7919) % SESSIONS; // spread over the sessions, deterministic
          const write = n % 5 === 0;
          const path = write ? `/set?key=w${n}` : '/read';
          const t = performance.now();
          const { status } = await (clients[s] as CookieClient).get(nextApp(), path);
          latencies.push(performance.now() - t);
          if (status !== 200) failed++;
          if (write) (status === 200 ? acknowledged[s] : unacknowledged[s])?.add(`w${n}`);
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const cpu = apps.reduce((sum, a) => sum + cpuSeconds(a.pid), 0) - cpuBefore;
    let lostWrites = 0;
    let unexpectedKeys = 0;
    for (let i = 0; i < SESSIONS; i += CONCURRENCY) {
      await Promise.all(
        clients.slice(i, i + CONCURRENCY).map(async (c, j) => {
          const { body } = await c.get(nextApp(), '/dump');
          const keys = new Set(Object.keys((body as { data: Record<string, unknown> }).data));
          for (const key of acknowledged[i + j] ?? []) if (!keys.has(key)) lostWrites++;
          for (const key of keys)
            if (!acknowledged[i + j]?.has(key) && !unacknowledged[i + j]?.has(key)) unexpectedKeys++;
        }),
      );
    }
    latencies.sort((a, b) => a - b);
    return {
      store,
      processes,
      requests: REQUESTS,
      requestsPerSecond: Math.round(REQUESTS / seconds),
      p50Ms: Number(quantile(latencies, 0.5).toFixed(2)),
      p99Ms: Number(quantile(latencies, 0.99).toFixed(2)),
      requestsPerCpuSecond: Math.round(REQUESTS / cpu),
      acknowledgedWrites: acknowledged.reduce((sum, s) => sum + s.size, 0),
      lostWrites,
      unexpectedKeys,
      failed,
    };
  } finally {
    await Promise.all(apps.map((a) => a.stop()));
  }
}

const rows: Row[] = [];
let cluster: RedisCluster | undefined;
const pool = new Pool({ connectionString: POSTGRES_URL, max: 1 });
try {
  for (const store of STORES) {
    for (let processes = 1; processes <= MAX_PROCESSES; processes++) {
      const namespace = `tsession_bench_proc_${process.pid}_${processes}`;
      let env: Record<string, string>;
      if (store === 'redis-cluster') {
        cluster ??= await startRedisCluster();
        env = {
          TSESSION_DIST_STORE: 'redis',
          TSESSION_DIST_URL: cluster.url,
          TSESSION_DIST_NAMESPACE: `${namespace}:`,
        };
      } else {
        const { PostgresStore } = await import('tsession/postgres');
        await new PostgresStore({ pool, schema: namespace }).migrate();
        env = { TSESSION_DIST_STORE: 'postgres', TSESSION_DIST_URL: POSTGRES_URL, TSESSION_DIST_NAMESPACE: namespace };
      }
      const row = await run(store, { ...env, TSESSION_DIST_SECRET: SECRET }, processes);
      rows.push(row);
      if (store === 'postgres') await pool.query(`DROP SCHEMA IF EXISTS "${namespace}" CASCADE`);
      process.stderr.write(`${JSON.stringify(row)}\n`);
    }
  }
} finally {
  await cluster?.stop();
  await pool.end();
}
const table = [
  '| store | processes | requests/s | p50 ms | p99 ms | requests per CPU-s | acknowledged writes | lost | unexpected | non-2xx |',
  '|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
  ...rows.map(
    (r) =>
      `| ${r.store} | ${r.processes} | ${r.requestsPerSecond} | ${r.p50Ms} | ${r.p99Ms} | ${r.requestsPerCpuSecond} | ${r.acknowledgedWrites} | ${r.lostWrites} | ${r.unexpectedKeys} | ${r.failed} |`,
  ),
].join('\n');
emit({ rows }, table);
