/**
 * Scale cases: export and import through the real `tsession` CLI (time and the
 * process's peak RSS, at two sizes, to show memory stays flat), then read latency and a
 * sweep of 1% expired sessions in each store at the larger size.
 *
 *   node --conditions=tsession-source --import tsx bench/scale.ts [--sizes 100000,1000000] [--postgres-size 1000000]
 *
 * Sessions are generated as JSON Lines and loaded with `tsession import`, so the import
 * is measured too; SQLite -> file -> Redis -> file exercises export and import on both.
 * Writes bench/results/<date>-scale.{json,md}.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { SessionStore } from 'tsession';

const run = promisify(execFile);
const ROOT = new URL('..', import.meta.url).pathname;
const TMP = join(ROOT, 'bench/.tmp/scale');
const REDIS_URL = 'redis://127.0.0.1:6379';
const POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test';

const flag = (name: string, fallback: string) => {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? (process.argv[at + 1] ?? fallback) : fallback;
};
const sizes = flag('sizes', '100000,1000000').split(',').map(Number);
// PostgreSQL imports in batches (importBatch), so it is filled to the largest size like the others.
const postgresSize = Number(flag('postgres-size', String(Math.max(...sizes))));
const NOW = Date.now() / 1000;
/**
 * 1% of sessions expire this long after the run starts, so a sweep "later" (an injected
 * `now`) finds exactly them, while neither Redis's own TTLs nor the import's expiry check
 * (both on the real clock) have touched them during a run of a few minutes.
 */
const SOON = 3 * 3600;

interface Step {
  step: string;
  sessions: number;
  seconds: number;
  peakRssMb: number;
}

/** Runs the real CLI under GNU time; resolves wall seconds and peak RSS. */
async function cli(args: string[]): Promise<{ seconds: number; peakRssMb: number; stdout: string }> {
  const { stdout, stderr } = await run(
    '/usr/bin/time',
    [
      '-f',
      'TIME %e %M',
      process.execPath,
      '--conditions=tsession-source',
      '--import',
      'tsx',
      'src/cli/bin.ts',
      ...args,
    ],
    { cwd: ROOT, maxBuffer: 1 << 26, env: { ...process.env, TSESSION_STORE: '' } },
  );
  const match = /TIME ([\d.]+) (\d+)/.exec(stderr);
  if (!match) throw new Error(`no timing from /usr/bin/time: ${stderr.slice(-500)}`);
  return { seconds: Number(match[1]), peakRssMb: Number(match[2]) / 1024, stdout };
}

function keyOf(i: number): string {
  return `s${String(i).padStart(9, '0')}`.padEnd(24, 'x');
}

/** Writes `count` sessions as JSON Lines, 1% of them expiring soon. */
async function generate(file: string, count: number): Promise<void> {
  const out = createWriteStream(file);
  const items = JSON.stringify(JSON.stringify(['tea', 'milk', 'bread']));
  for (let i = 0; i < count; i++) {
    const expiresAt = i % 100 === 0 ? NOW + SOON : NOW + 86_400;
    const line = `{"v":1,"key":"${keyOf(i)}","createdAt":${NOW},"lastAccess":${NOW},"expiresAt":${expiresAt},"entries":[{"pkg":"demo.visits","key":"count","value":"${i % 50}"},{"pkg":"shop.cart","key":"items","value":${items}}]}\n`;
    if (!out.write(line)) await new Promise<void>((go) => out.once('drain', () => go()));
  }
  await new Promise<void>((done, fail) => out.end((error?: Error | null) => (error ? fail(error) : done())));
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/** Read latency over random keys, and the time to sweep the 1% that expired. */
async function latencyAndSweep(store: SessionStore, count: number) {
  const samples: number[] = [];
  for (let n = 0; n < 5_000; n++) {
    const key = keyOf(Math.floor(Math.random() * count));
    const started = performance.now();
    await store.load(key, NOW);
    samples.push(performance.now() - started);
  }
  samples.sort((a, b) => a - b);
  const started = performance.now();
  const swept = await store.sweep(NOW + SOON + 1);
  return {
    p50ms: percentile(samples, 50),
    p99ms: percentile(samples, 99),
    swept,
    sweepSeconds: (performance.now() - started) / 1000,
  };
}

async function main(): Promise<void> {
  rmSync(TMP, { recursive: true, force: true });
  mkdirSync(TMP, { recursive: true });
  const steps: Step[] = [];
  const scale: Record<string, unknown>[] = [];
  const prefix = `tsession_bench_scale_${randomBytes(4).toString('hex')}:`;
  const redisUrl = `${REDIS_URL}?prefix=${prefix}`;
  const { Redis } = await import('ioredis');
  const redis = new Redis(REDIS_URL);
  const clearRedis = async () => {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
  };
  try {
    for (const count of sizes) {
      const source = join(TMP, `sessions-${count}.jsonl`);
      await generate(source, count);
      const db = join(TMP, `sessions-${count}.db`);
      const record = (step: string, r: { seconds: number; peakRssMb: number }) => {
        steps.push({ step, sessions: count, ...r });
        console.log(`${step} ${count}: ${r.seconds.toFixed(1)} s, peak RSS ${r.peakRssMb.toFixed(0)} MB`);
      };
      record('import file -> SQLite', await cli(['--store', `sqlite:${db}`, 'import', source]));
      const fromSqlite = join(TMP, `from-sqlite-${count}.jsonl`);
      record('export SQLite -> file', await cli(['--store', `sqlite:${db}`, 'export', '--out', fromSqlite]));
      await clearRedis();
      record('import file -> Redis', await cli(['--store', redisUrl, 'import', fromSqlite]));
      const fromRedis = join(TMP, `from-redis-${count}.jsonl`);
      record('export Redis -> file', await cli(['--store', redisUrl, 'export', '--out', fromRedis]));
      console.log(
        `  file sizes: ${(statSync(fromSqlite).size / 1e6).toFixed(0)} MB (SQLite), ${(statSync(fromRedis).size / 1e6).toFixed(0)} MB (Redis)`,
      );
      if (count === Math.max(...sizes)) {
        const { SqliteStore } = await import('tsession/sqlite');
        const { RedisStore } = await import('tsession/redis');
        const sqlite = new SqliteStore({ path: db });
        scale.push({ store: 'SQLite', sessions: count, ...(await latencyAndSweep(sqlite, count)) });
        await sqlite.close();
        const redisStore = new RedisStore({ client: redis, prefix });
        scale.push({ store: 'Redis', sessions: count, ...(await latencyAndSweep(redisStore, count)) });
        await redisStore.close();
      }
      rmSync(source);
    }
    const pgSource = join(TMP, `pg-${postgresSize}.jsonl`);
    await generate(pgSource, postgresSize);
    const schema = `tsession_bench_scale_${randomBytes(4).toString('hex')}`;
    const pgUrl = `${POSTGRES_URL}?schema=${schema}`;
    try {
      await cli(['--store', pgUrl, 'migrate']);
      const imported = await cli(['--store', pgUrl, 'import', pgSource]);
      steps.push({ step: 'import file -> PostgreSQL', sessions: postgresSize, ...imported });
      const exported = await cli(['--store', pgUrl, 'export', '--out', join(TMP, 'from-pg.jsonl')]);
      steps.push({ step: 'export PostgreSQL -> file', sessions: postgresSize, ...exported });
      const { PostgresStore } = await import('tsession/postgres');
      const pg = new PostgresStore({ connectionString: POSTGRES_URL, schema });
      scale.push({ store: 'PostgreSQL', sessions: postgresSize, ...(await latencyAndSweep(pg, postgresSize)) });
      await pg.close();
    } finally {
      const { default: pgLib } = await import('pg');
      const client = new pgLib.Client({ connectionString: POSTGRES_URL });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.end();
    }
  } finally {
    await clearRedis();
    redis.disconnect();
    rmSync(TMP, { recursive: true, force: true });
  }
  report(steps, scale);
}

function report(steps: Step[], scale: Record<string, unknown>[]): void {
  const date = new Date().toISOString().slice(0, 10);
  const dir = join(ROOT, 'bench/results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, `${date}-scale.json`),
    `${JSON.stringify({ date, node: process.version, steps, scale }, null, 2)}\n`,
  );
  const lines = [
    `# tsession scale cases, ${date}`,
    '',
    "Export and import through the real `tsession` CLI (wall time and the process's peak RSS from GNU time), at two sizes: peak memory should not grow with the count.",
    '',
    '| step | sessions | seconds | sessions/s | peak RSS MB |',
    '|---|--:|--:|--:|--:|',
    ...steps.map(
      (s) =>
        `| ${s.step} | ${s.sessions.toLocaleString('en')} | ${s.seconds.toFixed(1)} | ${Math.round(s.sessions / s.seconds).toLocaleString('en')} | ${s.peakRssMb.toFixed(0)} |`,
    ),
    '',
    'Read latency (5,000 `store.load` calls on random keys, in process) and a sweep of the 1% expired.',
    '',
    '| store | sessions | load p50 ms | load p99 ms | swept | sweep s |',
    '|---|--:|--:|--:|--:|--:|',
    ...scale.map(
      (s) =>
        `| ${s.store} | ${Number(s.sessions).toLocaleString('en')} | ${Number(s.p50ms).toFixed(3)} | ${Number(s.p99ms).toFixed(3)} | ${Number(s.swept).toLocaleString('en')} | ${Number(s.sweepSeconds).toFixed(2)} |`,
    ),
    '',
  ];
  writeFileSync(join(dir, `${date}-scale.md`), lines.join('\n'));
  console.log(lines.join('\n'));
}

await main();
