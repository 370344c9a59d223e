/**
 * Regenerates docs/reliability.md: runs the reliability tests (test/reliability and
 * test/faults), which write their measured numbers to .tmp/reliability/*.json, then
 * assembles those rows into the report's table.
 *
 *   node --conditions=tsession-source --import tsx scripts/reliability-report.ts            # run the tests, write the report
 *   node --conditions=tsession-source --import tsx scripts/reliability-report.ts --no-run   # only assemble the JSON already there
 *
 * The tests' environment variables pass through: TSESSION_FUZZ_RUNS, TSESSION_CRASH_ROUNDS,
 * TSESSION_TORTURE=long (or TSESSION_TORTURE_CLIENTS / _REQUESTS).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FindingRow, ReliabilityRow } from '../test/reliability/record.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIR = join(ROOT, '.tmp/reliability');
const OUT = join(ROOT, 'docs/reliability.md');
/** The report's sections, in order, by the JSON file that feeds them. */
const SECTIONS: readonly [file: string, title: string][] = [
  ['fuzz-cookies', 'Hostile input: cookies and ids'],
  ['fuzz-values', 'Hostile input: session values'],
  ['fuzz-import', 'Hostile input: JSON Lines imports'],
  ['crash', 'Crashes'],
  ['torture', 'Concurrency torture'],
  ['faults-redis', 'Store faults: Redis'],
  ['faults-redis-failover', 'Store faults: Redis Cluster failover'],
  ['faults-redis-reshard', 'Store faults: Redis Cluster resharding'],
  ['faults-postgres', 'Store faults: PostgreSQL'],
];

/**
 * The findings of the security review (issue 11 §2), by number. Their rows come from any
 * `.tmp/reliability/security-*.json` (`recordFinding` in test/reliability/record.ts); a
 * finding without a recorded row shows a placeholder naming where its row should come from.
 */
const ISSUE_11_FINDINGS: readonly [number, string, string][] = [
  [1, 'Size caps beaten by concurrency', 'rules'],
  [2, 'Bytes counted as UTF-16 code units', 'rules'],
  [3, 'Lone surrogates in keys and package ids', 'security'],
  [4, 'Fingerprint binding bypassed by invalidate/regenerate', 'rules'],
  [5, 'Import trusts its input', 'security'],
  [6, 'Import resets createdAt; export order differs by store', 'rules'],
  [7, 'The admin handler throws instead of answering', 'security'],
  [8, "503 bodies leak the driver's error", 'security'],
  [9, 'An id from a link becomes a cookie', 'security'],
  [10, 'Same-name cookies: only the first 4 are tried', 'security'],
];

interface RecordedFile {
  readonly file: string;
  readonly recordedAt: string;
  readonly node: string;
  readonly env: Record<string, string>;
  readonly rows: ReliabilityRow[];
}

function runTests(): number {
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(DIR, { recursive: true });
  console.log('Running test/reliability and test/faults (this takes a minute or two)...');
  const result = spawnSync('npx', ['vitest', 'run', 'test/reliability', 'test/faults'], {
    cwd: ROOT,
    stdio: 'inherit',
    env: process.env,
  });
  return result.status ?? 1;
}

function readRecorded(): Map<string, RecordedFile> {
  const files = new Map<string, RecordedFile>();
  if (!existsSync(DIR)) return files;
  for (const name of readdirSync(DIR).filter((n) => n.endsWith('.json') && !n.startsWith('security-'))) {
    const recorded = JSON.parse(readFileSync(join(DIR, name), 'utf8')) as RecordedFile;
    files.set(recorded.file, recorded);
  }
  return files;
}

/** Every finding row recorded by any branch's tests, by finding number (the last recorded wins). */
function readFindings(): Map<number, FindingRow> {
  const rows = new Map<number, FindingRow>();
  if (!existsSync(DIR)) return rows;
  for (const name of readdirSync(DIR).filter((n) => n.startsWith('security-') && n.endsWith('.json'))) {
    const recorded = JSON.parse(readFileSync(join(DIR, name), 'utf8')) as { rows: FindingRow[] };
    for (const row of recorded.rows) rows.set(row.finding, row);
  }
  return rows;
}

function findingsTable(rows: ReadonlyMap<number, FindingRow>): string {
  const lines = [
    '## Security review findings (issue 11)',
    '',
    'One row per finding of the review: what the tests tried, how many cases, and what happened now.',
    '',
    '| # | finding | tried | cases | outcome | tests |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const [n, title, branch] of ISSUE_11_FINDINGS) {
    const r = rows.get(n);
    const cells = r
      ? [n, title, r.tried, r.cases, r.outcome, r.tests]
      : [
          n,
          title,
          `not recorded in this run: the row comes from the \`${branch}\` branch's tests (\`recordFinding\` with \`finding: ${n}\`)`,
          '–',
          '–',
          '–',
        ];
    lines.push(`| ${cells.map(cell).join(' | ')} |`);
  }
  return `${lines.join('\n')}\n`;
}

const cell = (text: string | number | null | undefined) =>
  text === null || text === undefined || text === '' ? '–' : String(text).replaceAll('|', '\\|').replaceAll('\n', ' ');

function table(rows: readonly ReliabilityRow[]): string {
  const lines = [
    '| test | load | faults injected | bad inputs tried | lost writes | errors | recovery | time |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of rows) {
    const recovery = r.recoveryMs === null ? '–' : `${r.recoveryMs} ms`;
    const time = r.durationMs === undefined ? '–' : `${(r.durationMs / 1000).toFixed(1)} s`;
    lines.push(
      `| ${[r.test, r.load, r.faults, r.inputs, r.lostWrites, r.errors, recovery, time].map(cell).join(' | ')} |`,
    );
  }
  return lines.join('\n');
}

function report(
  files: Map<string, RecordedFile>,
  findings: ReadonlyMap<number, FindingRow>,
  exitCode: number | undefined,
): string {
  const when = [...files.values()].map((f) => f.recordedAt).sort();
  const env = Object.assign({}, ...[...files.values()].map((f) => f.env)) as Record<string, string>;
  const out: string[] = [
    '# Reliability report',
    '',
    '<!-- Generated by scripts/reliability-report.ts: do not edit by hand. -->',
    '',
    'What the reliability suite (issues 7 and 11) tried against tsession, and what happened. Regenerate with',
    '`node --conditions=tsession-source --import tsx scripts/reliability-report.ts` (runs `test/reliability` and `test/faults`,',
    'which write their numbers to `.tmp/reliability/*.json`; `--no-run` only assembles those files).',
    '',
    `Measured ${when[0] ?? 'never'}${when.length > 1 ? ` to ${when[when.length - 1]}` : ''} on Node ${[...files.values()][0]?.node ?? '?'}, ` +
      `${cpus().length} CPU(s) (${cpus()[0]?.model.trim() ?? 'unknown'}); ` +
      `environment: ${
        Object.keys(env).length === 0
          ? 'CI defaults'
          : Object.entries(env)
              .map(([k, v]) => `${k}=${v}`)
              .join(', ')
      }.` +
      (exitCode === undefined ? '' : ` Test run exit code: ${exitCode}.`),
    '',
    'Lost writes count writes whose success response the client received and that the store does not hold.',
    'Recovery is the time from the end of the fault (server started again, relay restored) to the first',
    'successful response; for the crash test, from spawning the server to its listening; for the Cluster',
    'failover, from the kill of the master to the end of the last 503.',
    '',
    '**Long variants**: `TSESSION_FUZZ_RUNS=50000` (fast-check runs per property), `TSESSION_CRASH_ROUNDS=100`,',
    '`TSESSION_TORTURE=long` (100 clients × 1,000 requests per store).',
    '',
  ];
  for (const [file, title] of SECTIONS) {
    out.push(`## ${title}`, '');
    const recorded = files.get(file);
    if (!recorded || recorded.rows.length === 0) {
      out.push('Not run (skipped or failed: see the test output).', '');
      continue;
    }
    out.push(table(recorded.rows), '');
    const notes = recorded.rows.filter((r) => r.notes);
    if (notes.length > 0) {
      out.push(...notes.map((r) => `- **${r.test}**: ${r.notes}`), '');
    }
  }
  out.push(findingsTable(findings));
  out.push(FINDINGS);
  return `${out.join('\n')}\n`;
}

const FINDINGS = `## Findings of issue 7

Bugs the suite found in \`src/\`, each fixed and now pinned by a passing test:

1. **Regenerate dropped concurrent writes.** \`regenerate()\` moved the snapshot its request loaded, and the
   stores only checked that the old record was still live, so a write acknowledged between the regenerate's
   load and its commit was deleted with the old record (Redis and PostgreSQL lost a few dozen per torture run).
   Fixed: the delta carries the moved entries and versions (\`replacesEntries\`), and every store refuses a
   changed old record with \`ConflictError('version')\`, writing nothing. Test: \`test/reliability/torture.test.ts\`
   ("regenerate racing an acknowledged write") and the contract's regenerate cases.
2. **Deep nesting overflowed the codec's stack.** Values nested past about 1,500 levels were refused with a plain
   \`RangeError\` instead of a typed error. Fixed: the codec refuses values deeper than \`MAX_DEPTH\` (512) with a
   \`SessionSerializationError\` and bounds decoding depth. Test: \`test/reliability/fuzz-values.test.ts\`.
3. **Imports could store values that never decode.** Fixed: \`importSessions\` decodes every entry's value with the
   target codec and reports a line whose value does not decode.

Observation (not a failure): sparse arrays come back with \`null\` in their holes, as in JSON.`;

const noRun = process.argv.includes('--no-run');
const exitCode = noRun ? undefined : runTests();
const files = readRecorded();
mkdirSync(join(ROOT, 'docs'), { recursive: true });
writeFileSync(OUT, report(files, readFindings(), exitCode));
console.log(`Wrote ${OUT} from ${files.size} result file(s) in ${DIR}.`);
if (exitCode !== undefined && exitCode !== 0) process.exitCode = exitCode;
