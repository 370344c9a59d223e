/**
 * `npm run bench [-- --quick]`: every case's server in its own process, loaded by
 * autocannon in a load-generator process of its own, in interleaved rounds, in two
 * workloads (10,000 sessions chosen at random per request, and one session); then
 * memory per idle session and sweep times in their own processes. Writes
 * bench/results/<date>.json, .md and .svg (`<date>-quick.*` for --quick) and prints
 * the tables and every target, MET or MISSED.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { Command } from 'commander';
import type { HotKeysResult } from './hot-keys.js';
import { type CaseSpec, casesFor, SERVERS } from './lib/cases.js';
import { chart } from './lib/chart.js';
import { type ServerChild, startServer } from './lib/child.js';
import {
  countedCommands,
  diffCounts,
  LoadGenerator,
  type LostIncrements,
  lostIncrements,
  type RoundResult,
  round,
  type Seeded,
  seedSessions,
  syntheticCookies,
  type Workload,
} from './lib/load.js';
import { redisCounters } from './lib/redis-stats.js';
import { checkTargets, markdown, summarize } from './lib/report.js';
import { runScript } from './lib/scripts.js';
import { fmt } from './lib/stats.js';
import type { MemoryPerSessionResult } from './memory-per-session.js';
import type { SweepResult } from './sweep.js';

const program = new Command()
  .name('bench')
  .option('--quick', 'fewer and shorter rounds and smaller sizes (under two minutes)')
  .option('--rounds <n>', 'interleaved rounds', Number)
  .option('--duration <s>', 'seconds per round', Number)
  .option('--warmup <s>', 'seconds of warm-up per case before the first round', Number)
  .option('--connections <n>', 'concurrent connections', Number, 10)
  .option('--servers <ids>', `comma-separated server ids (${SERVERS.map((s) => s.id).join(', ')})`)
  .option('--no-http', 'skip the HTTP cases')
  .option('--no-memory', 'skip memory per session')
  .option('--no-sweep', 'skip sweep times')
  .option('--no-write', 'do not write bench/results/')
  .option('--hot-keys [stores]', 'also run the hot-keys phase (bench/hot-keys.ts) on these stores (default memory)')
  .parse();
const opts = program.opts<{
  quick?: boolean;
  rounds?: number;
  duration?: number;
  warmup?: number;
  connections: number;
  servers?: string;
  http: boolean;
  memory: boolean;
  sweep: boolean;
  write: boolean;
  hotKeys?: boolean | string;
}>();
const quick = opts.quick === true;
const rounds = opts.rounds ?? (quick ? 2 : 3);
const duration = opts.duration ?? (quick ? 0.8 : 2);
const warmup = opts.warmup ?? (quick ? 0 : 1);
/** Sessions seeded per server for the many-sessions workload. */
const sessions = 10_000;
/** The separate lost-increments phase: this many clients on one session, this many /write requests. */
const lostConnections = 50;
const lostAmount = quick ? 200 : 1500;
const log = (line: string) => process.stderr.write(`${line}\n`);

const wanted = opts.servers?.split(',');
const specs = SERVERS.filter((s) => (wanted ? wanted.includes(s.id) || s.id === 'bare' : !(quick && s.fullOnly)));
const skipped: Record<string, string> = {};
const children = new Map<string, { child: ServerChild; workloads: Record<'one' | 'many', Workload> }>();
const results = new Map<string, RoundResult[]>();
let cases: CaseSpec[] = [];
const serverMemory: Record<string, { rss: number; heapUsed: number }> = {};
const lost: Record<string, LostIncrements> = {};
const seeded: Record<string, Seeded> = {};
/** Store commands per /blind request (a write of a key never read), from its own counting phase. */
const blind: Record<string, { requests: number; commands: Record<string, number> }> = {};
const load = new LoadGenerator();
const redis = specs.some((s) => s.store === 'redis') ? await redisCounters() : undefined;
/** Store commands per request, from counting phases after the rounds (Redis: under MONITOR; PostgreSQL: the child's statement counts). */
const counted: Record<string, { requests: number; commands: Record<string, number> }> = {};

if (opts.http) {
  // Started four at a time (tsx compiles each at start-up), then kept in the table's order.
  const started: (readonly [string, ServerChild | string])[] = [];
  for (let i = 0; i < specs.length; i += 4) {
    const batch = specs.slice(i, i + 4);
    started.push(
      ...(await Promise.all(
        batch.map(async (spec) => [spec.id, await startServer(spec.script, [...spec.args], ['--expose-gc'])] as const),
      )),
    );
  }
  for (const spec of specs) {
    const child = started.find(([id]) => id === spec.id)?.[1] as ServerChild | string;
    if (typeof child === 'string') {
      skipped[spec.id] = child;
      log(`skip ${spec.id}: ${child}`);
      continue;
    }
    const external = spec.store === 'redis' ? redis?.usedMemory : undefined;
    const { cookies, ...seed } = await seedSessions(load, child, sessions, external);
    seeded[spec.id] = seed;
    if (spec.session && cookies.length < sessions) {
      throw new Error(`${spec.id} set ${cookies.length} cookies on ${sessions} /write requests without one`);
    }
    const pool = spec.session ? cookies : syntheticCookies(sessions);
    log(
      `seeded ${spec.id.padEnd(24)} ${fmt(seed.requests)} requests: RSS ${fmt(seed.rssPerRequest)} B, heap ${fmt(seed.heapPerRequest)} B per request`,
    );
    children.set(spec.id, {
      child,
      workloads: { many: { name: 'many', cookies: pool }, one: { name: 'one', cookies: pool.slice(0, 1) } },
    });
  }
  cases = casesFor(specs.filter((s) => children.has(s.id)));
  try {
    for (const c of cases) {
      const { child, workloads } = children.get(c.server.id)!;
      results.set(c.id, []);
      if (warmup <= 0) continue;
      log(`warm-up ${c.id} (${warmup} s)`);
      await round(load, child, c.path, workloads[c.workload], warmup, opts.connections);
    }
    for (let r = 0; r < rounds; r++) {
      for (const c of cases) {
        const { child, workloads } = children.get(c.server.id)!;
        const result = await round(load, child, c.path, workloads[c.workload], duration, opts.connections);
        results.get(c.id)!.push(result);
        log(
          `round ${r + 1}/${rounds} ${c.id.padEnd(30)} ${fmt(result.rps).padStart(7)} req/s  ` +
            `${fmt(result.cpuUsPerRequest, 1).padStart(6)} µs CPU/req  p99 ${result.p99} ms  writes ${result.writes}` +
            (result.non2xx + result.errors > 0
              ? `  409/other/errors ${result.conflicts}/${result.non2xx - result.conflicts}/${result.errors}`
              : '') +
            (result.lost !== undefined ? `  lost ${result.lost}` : ''),
        );
      }
    }
    // Counting phases: a fixed number of requests, every answer in (no request in flight at either end).
    const amount = quick ? 300 : 2000;
    const monitorOf = (spec: (typeof specs)[number], child: ServerChild) =>
      spec.store === 'redis'
        ? (run: () => Promise<void>) => redis!.monitor(child.pid, run)
        : async (run: () => Promise<void>) => {
            const before = await child.stats();
            await run();
            return diffCounts((await child.stats()).commands, before.commands);
          };
    const counts = (spec: (typeof specs)[number]) => (spec.store === 'redis' && redis) || spec.store === 'postgres';
    for (const c of cases.filter((x) => x.workload === 'many' && counts(x.server))) {
      const { child, workloads } = children.get(c.server.id)!;
      counted[c.id] = await countedCommands(load, child, c.path, workloads.many, amount, monitorOf(c.server, child));
      log(`store commands ${c.id.padEnd(30)} ${JSON.stringify(counted[c.id])}`);
    }
    for (const spec of specs.filter((s) => !s.peer && s.script === 'tsession' && counts(s) && children.has(s.id))) {
      const { child, workloads } = children.get(spec.id)!;
      blind[spec.id] = await countedCommands(load, child, '/blind', workloads.many, amount, monitorOf(spec, child));
      log(`store commands ${`${spec.id} /blind`.padEnd(30)} ${JSON.stringify(blind[spec.id])}`);
    }
    for (const spec of specs.filter((s) => s.session && children.has(s.id))) {
      const { child, workloads } = children.get(spec.id)!;
      const result = await lostIncrements(load, child, workloads.one.cookies[0] as string, lostConnections, lostAmount);
      lost[spec.id] = result;
      log(
        `lost increments ${spec.id.padEnd(22)} ${lostConnections} clients, ${result.requests} /write: ` +
          `${result.acknowledged} acknowledged, ${result.conflicts} refused (409), ${result.failed} failed, ` +
          `counter +${result.increase}: lost ${result.lost}`,
      );
    }
  } finally {
    for (const [id, { child }] of children) {
      const { rss, heapUsed } = await child.stats();
      serverMemory[id] = { rss, heapUsed };
      await child.stop();
    }
  }
}

await redis?.close();
load.close();

let memory: MemoryPerSessionResult | undefined;
if (opts.memory && !quick) {
  log('memory per idle session...');
  memory = await runScript<MemoryPerSessionResult>('memory-per-session', ['--n', '100000'], ['--expose-gc']);
}
let sweep: SweepResult | undefined;
if (opts.sweep && !quick) {
  log('sweep times...');
  const sizes = quick
    ? ['--large', '200000', '--reps', '3', '--fill-budget', '15']
    : ['--reps', '7', '--fill-budget', '240'];
  sweep = await runScript<SweepResult>('sweep', sizes, ['--expose-gc', '--max-old-space-size=8192']);
}

let hotKeys: HotKeysResult[] | undefined;
if (opts.hotKeys !== undefined) {
  hotKeys = [];
  const stores = typeof opts.hotKeys === 'string' ? opts.hotKeys.split(',') : ['memory'];
  for (const store of stores) {
    log(`hot keys on ${store}...`);
    hotKeys.push(await runScript<HotKeysResult>('hot-keys', ['--store', store]));
  }
}

const summaries = summarize(cases, results, lost, seeded, counted);
const targets = checkTargets(summaries, memory, sweep, blind);
const date = new Date().toISOString().slice(0, 10);
const meta = {
  date,
  mode: quick ? 'quick' : 'full',
  node: process.version,
  cpus: `${cpus().length} x ${cpus()[0]?.model ?? '?'}`,
  rounds,
  'seconds per round': duration,
  'warm-up s': warmup,
  connections: opts.connections,
  'load generator': 'autocannon, in a process of its own',
  'sessions (many workload)': sessions,
  'lost-increments phase': `${lostAmount} /write from ${lostConnections} connections on one session`,
};
const resultName = `${date}${quick ? '-quick' : ''}`;
const report =
  markdown(meta, summaries, memory, sweep, targets, skipped, `${resultName}.svg`) + hotKeysMarkdown(hotKeys);
process.stdout.write(`\n${report}`);
if (opts.write) {
  const dir = new URL('./results/', import.meta.url).pathname;
  mkdirSync(dir, { recursive: true });
  const name = resultName;
  const raw = Object.fromEntries([...results].map(([id, rs]) => [id, rs]));
  writeFileSync(
    `${dir}${name}.json`,
    `${JSON.stringify({ meta, summaries, rounds: raw, lost, seeded, storeCommands: counted, blind, serverMemory, memory, sweep, targets, skipped, ...(hotKeys && { hotKeys }) }, null, 2)}\n`,
  );
  writeFileSync(`${dir}${name}.md`, report);
  writeFileSync(`${dir}${name}.svg`, chart(cases, summaries, meta));
  log(`wrote bench/results/${name}.json, .md and .svg`);
}

/** The hot-keys tables (issue 14 §2), when the phase ran. */
function hotKeysMarkdown(results: readonly HotKeysResult[] | undefined): string {
  if (results === undefined) return '';
  const tables = results.map((r) => {
    const rows = r.measurements.map(
      (m) =>
        `| ${m.way} | ${m.acknowledged} | ${m.counter} | ${m.lost} | ${m.conflicts} | ${m.handlerRuns} | ${m.requestsPerSecond} |`,
    );
    const head = `### ${r.store}: ${r.clients} clients, ${r.requests} increments of one counter (retry: ${r.attempts} attempts)`;
    return [
      head,
      '',
      '| way | acknowledged | counter | lost | 409s | handler runs | requests/s |',
      '| --- | --- | --- | --- | --- | --- | --- |',
      ...rows,
      ...(r.skipped ? [`skipped: ${r.skipped}`] : []),
    ].join('\n');
  });
  return `\n## Hot keys\n\n${tables.join('\n\n')}\n`;
}
