/**
 * Prints the README's performance table from a bench result file: the many-sessions
 * workload (10,000 sessions chosen at random per request), /read and /write.
 *
 *   node --import tsx scripts/performance-table.ts bench/results/<date>.json
 */
import { readFileSync } from 'node:fs';
import type { CaseSummary } from '../bench/lib/report.js';

const file = process.argv[2];
if (!file) throw new Error('usage: performance-table.ts bench/results/<date>.json');
const { summaries } = JSON.parse(readFileSync(file, 'utf8')) as { summaries: CaseSummary[] };
const fmt = (n: number | undefined, digits = 0) =>
  n === undefined || !Number.isFinite(n)
    ? '-'
    : n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const ratio = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? '-' : `${n.toFixed(2)}x`);
const pct = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? '-' : `${Math.round(n * 100)}%`);

const lines = [
  '| 10,000 sessions | /read req/s | CPU µs/req | session cost (req/s) | vs usual library (req/s) | /write req/s | CPU µs/req | vs usual library |',
  '| --- | --: | --: | --: | --: | --: | --: | --: |',
];
const many = summaries.filter((s) => s.workload === 'many');
for (const read of many.filter((s) => s.path === '/read')) {
  const write = many.find((s) => s.serverId === read.serverId && s.path === '/write');
  const versus = (s: CaseSummary | undefined) =>
    s?.peerRatio === undefined ? '-' : `${ratio(s.peerRatio)} ${s.peerId}`;
  lines.push(
    `| ${read.label} | ${fmt(read.rpsMedian)} | ${fmt(read.cpuUsMedian, 1)} | ${read.store === 'none' || read.peer ? '-' : pct(read.sessionShare)} | ${versus(read)} | ` +
      `${fmt(write?.rpsMedian)} | ${fmt(write?.cpuUsMedian, 1)} | ${versus(write)} |`,
  );
}
process.stdout.write(`${lines.join('\n')}\n`);
