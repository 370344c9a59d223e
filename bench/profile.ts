/**
 * Profiles one server case under load and prints where its CPU time goes:
 *
 *   npm run build && node --import tsx bench/profile.ts [--server tsession-memory] [--path /read] [--workload many|one] [--sessions 10000] [--seconds 10] [--top 25]
 *
 * The server child runs with `--cpu-prof` (profile in bench/.tmp/prof/); the script
 * aggregates self time by function (file:line:function) and by file, as shares of
 * the busy (non-idle) samples.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { hasFlag, numberFlag } from './lib/args.js';
import { SERVERS } from './lib/cases.js';
import { startServer } from './lib/child.js';
import { LoadGenerator, round, seedSessions, syntheticCookies } from './lib/load.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const flag = (name: string, fallback: string) => {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? (process.argv[at + 1] ?? fallback) : fallback;
};
const serverId = flag('server', 'tsession-memory');
const path = flag('path', '/read');
const seconds = numberFlag('seconds', 10);
const top = numberFlag('top', 25);
const sessions = numberFlag('sessions', 10_000);
const workloadName = flag('workload', 'many') as 'one' | 'many';
const spec = SERVERS.find((s) => s.id === serverId);
if (!spec) throw new Error(`profile: unknown server ${serverId}`);

const dir = new URL('./.tmp/prof/', import.meta.url).pathname;
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const child = await startServer(spec.script, [...spec.args], ['--cpu-prof', `--cpu-prof-dir=${dir}`]);
if (typeof child === 'string') throw new Error(`profile: ${serverId} unavailable: ${child}`);
const load = new LoadGenerator();
const seeded = await seedSessions(load, child, sessions);
const pool = spec.session ? seeded.cookies : syntheticCookies(sessions);
const workload = { name: workloadName, cookies: workloadName === 'one' ? pool.slice(0, 1) : pool };
await round(load, child, path, workload, 2, 10);
const measured = await round(load, child, path, workload, seconds, 10);
load.close();
const { requests } = await child.stats();
await child.stop();

const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
if (!file) throw new Error('profile: the child wrote no .cpuprofile');
const profile = JSON.parse(readFileSync(`${dir}${file}`, 'utf8')) as CpuProfile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const selfUs = new Map<number, number>();
profile.samples.forEach((id, i) => {
  selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
});
const isIdle = (id: number) => byId.get(id)?.callFrame.functionName === '(idle)';
const idleUs = [...selfUs].filter(([id]) => isIdle(id)).reduce((a, [, us]) => a + us, 0);
const total = [...selfUs].filter(([id]) => !isIdle(id)).reduce((a, [, us]) => a + us, 0);

const root = process.cwd();
const shortUrl = (url: string) => url.replace(/^file:\/\//, '').replace(`${root}/`, '') || '(native)';
const byFunction = new Map<string, number>();
const byFile = new Map<string, number>();
for (const [id, us] of selfUs) {
  const frame = byId.get(id)?.callFrame;
  if (!frame || isIdle(id)) continue;
  const file = shortUrl(frame.url);
  const name = `${file}:${frame.lineNumber + 1}:${frame.functionName || '(anonymous)'}`;
  byFunction.set(name, (byFunction.get(name) ?? 0) + us);
  byFile.set(file, (byFile.get(file) ?? 0) + us);
}
const print = (title: string, map: Map<string, number>) => {
  process.stdout.write(`\n${title}\n`);
  for (const [name, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    const share = `${((us / total) * 100).toFixed(1)}%`.padStart(6);
    process.stdout.write(`${share} ${(us / requests).toFixed(2).padStart(6)} µs/req  ${name}\n`);
  }
};
process.stdout.write(
  `${serverId} ${path} (${workloadName}): ${measured.rps.toFixed(0)} req/s, ${measured.cpuUsPerRequest.toFixed(1)} µs CPU/request (profiler on); ` +
    `${(total / 1000).toFixed(0)} ms busy and ${(idleUs / 1000).toFixed(0)} ms idle sampled; shares below are of busy time, µs/req over all ${requests} requests; profile ${dir}${file}\n`,
);
// Inclusive time of the library's own functions (src/): self time of the node and all it called.
const inclusive = new Map<string, number>();
const walk = (id: number, onStack: Set<string>): number => {
  const node = byId.get(id);
  if (!node) return 0;
  let us = isIdle(id) ? 0 : (selfUs.get(id) ?? 0);
  const frame = node.callFrame;
  const name = `${shortUrl(frame.url)}:${frame.functionName || '(anonymous)'}`;
  const counted = /\/(src|dist)\//.test(frame.url) && !onStack.has(name);
  if (counted) onStack.add(name);
  for (const childId of node.children ?? []) us += walk(childId, onStack);
  if (counted) {
    onStack.delete(name);
    inclusive.set(name, (inclusive.get(name) ?? 0) + us);
  }
  return us;
};
walk(profile.nodes[0]?.id ?? 1, new Set());
print('self time by function', byFunction);
print('self time by file', byFile);
print('inclusive time of tsession functions (dist/ or src/)', inclusive);
if (!hasFlag('keep')) rmSync(dir, { recursive: true, force: true });
