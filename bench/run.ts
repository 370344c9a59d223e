/**
 * `npm run bench [-- --quick]`: every case's server in its own process, loaded by
 * autocannon from this one, in interleaved rounds; then memory per idle session and
 * sweep times in their own processes. Writes bench/results/<date>.json and .md
 * (`<date>-quick.*` for --quick) and prints the table and the targets.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { Command } from 'commander';
import { type CaseSpec, casesFor, SERVERS } from './lib/cases.js';
import { type ServerChild, startServer } from './lib/child.js';
import { createSession, type RoundResult, round } from './lib/load.js';
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
}>();
const quick = opts.quick === true;
const rounds = opts.rounds ?? (quick ? 2 : 5);
const duration = opts.duration ?? (quick ? 2 : 4);
const warmup = opts.warmup ?? (quick ? 0.5 : 3);
const log = (line: string) => process.stderr.write(`${line}\n`);

const wanted = opts.servers?.split(',');
const specs = SERVERS.filter((s) => !wanted || wanted.includes(s.id) || s.id === 'bare');
const skipped: Record<string, string> = {};
const children = new Map<string, { child: ServerChild; cookie: string }>();
const results = new Map<string, RoundResult[]>();
let cases: CaseSpec[] = [];
const serverMemory: Record<string, { rss: number; heapUsed: number }> = {};

if (opts.http) {
  for (const spec of specs) {
    const child = await startServer(spec.script, [...spec.args]);
    if (typeof child === 'string') {
      skipped[spec.id] = child;
      log(`skip ${spec.id}: ${child}`);
      continue;
    }
    const cookie = spec.session ? await createSession(child) : '';
    if (spec.session && cookie === '') throw new Error(`${spec.id} set no cookie on its first /write`);
    children.set(spec.id, { child, cookie });
  }
  cases = casesFor(specs.filter((s) => children.has(s.id)));
  try {
    for (const c of cases) {
      const { child, cookie } = children.get(c.server.id)!;
      log(`warm-up ${c.id} (${warmup} s)`);
      await round(child, c.path, cookie, warmup, opts.connections);
      results.set(c.id, []);
    }
    for (let r = 0; r < rounds; r++) {
      for (const c of cases) {
        const { child, cookie } = children.get(c.server.id)!;
        const result = await round(child, c.path, cookie, duration, opts.connections);
        results.get(c.id)!.push(result);
        log(
          `round ${r + 1}/${rounds} ${c.id.padEnd(24)} ${fmt(result.rps).padStart(7)} req/s  ` +
            `${fmt(result.cpuUsPerRequest, 1).padStart(6)} µs CPU/req  p99 ${result.p99} ms  writes ${result.writes}` +
            (result.non2xx + result.errors > 0
              ? `  non-2xx/409/errors ${result.non2xx}/${result.conflicts}/${result.errors}`
              : '') +
            (result.lost !== undefined ? `  lost ${result.lost}` : ''),
        );
      }
    }
  } finally {
    for (const [id, { child }] of children) {
      const { rss, heapUsed } = await child.stats();
      serverMemory[id] = { rss, heapUsed };
      await child.stop();
    }
  }
}

let memory: MemoryPerSessionResult | undefined;
if (opts.memory) {
  log('memory per idle session...');
  memory = await runScript<MemoryPerSessionResult>('memory-per-session', ['--n', '100000'], ['--expose-gc']);
}
let sweep: SweepResult | undefined;
if (opts.sweep) {
  log('sweep times...');
  const sizes = quick
    ? ['--large', '200000', '--reps', '3', '--fill-budget', '15']
    : ['--reps', '7', '--fill-budget', '240'];
  sweep = await runScript<SweepResult>('sweep', sizes, ['--expose-gc', '--max-old-space-size=8192']);
}

const summaries = summarize(cases, results);
const targets = checkTargets(summaries, memory, sweep);
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
  'load generator': 'autocannon (in the parent process)',
};
const report = markdown(meta, summaries, memory, sweep, targets, skipped);
process.stdout.write(`\n${report}`);
if (opts.write) {
  const dir = new URL('./results/', import.meta.url).pathname;
  mkdirSync(dir, { recursive: true });
  const name = `${date}${quick ? '-quick' : ''}`;
  const raw = Object.fromEntries([...results].map(([id, rs]) => [id, rs]));
  writeFileSync(
    `${dir}${name}.json`,
    `${JSON.stringify({ meta, summaries, rounds: raw, serverMemory, memory, sweep, targets, skipped }, null, 2)}\n`,
  );
  writeFileSync(`${dir}${name}.md`, report);
  log(`wrote bench/results/${name}.json and .md`);
}
