/**
 * Measured numbers of the reliability tests, for docs/reliability.md: each test file
 * records rows with {@link recordRow}, written to `.tmp/reliability/<file>.json` (the
 * whole file rewritten each time, so it always holds the last run of that test file).
 * `scripts/reliability-report.ts` assembles the rows into the report's table.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where the rows go: `<repo>/.tmp/reliability/`. */
export const RELIABILITY_DIR = fileURLToPath(new URL('../../.tmp/reliability', import.meta.url));

/** One line of the report's table. */
export interface ReliabilityRow {
  /** The test, as the table names it. */
  readonly test: string;
  /** The load: clients, requests, runs. */
  readonly load: string;
  /** The faults injected ('none' for pure input tests). */
  readonly faults: string;
  /** The bad inputs tried ('none' for pure fault tests). */
  readonly inputs: string;
  /** Writes acknowledged to a client that the store lost: 0 unless something is wrong. */
  readonly lostWrites: number | null;
  /** The errors seen, as counts by kind (e.g. `503 x 120`), or 'none'. */
  readonly errors: string;
  /** Milliseconds from the end of the fault to the first success, when there is a fault to recover from. */
  readonly recoveryMs: number | null;
  /** Anything else the reader should know: bugs found, measured timings. */
  readonly notes?: string;
  /** Wall time of the test, in milliseconds. */
  readonly durationMs?: number;
}

interface RecordedFile {
  readonly file: string;
  readonly recordedAt: string;
  readonly node: string;
  readonly env: Record<string, string>;
  readonly rows: ReliabilityRow[];
}

const files = new Map<string, RecordedFile>();

/** Adds `row` to the JSON of test file `file` (e.g. 'fuzz-cookies') and rewrites it. */
export function recordRow(file: string, row: ReliabilityRow): void {
  let recorded = files.get(file);
  if (!recorded) {
    const env: Record<string, string> = {};
    for (const [name, value] of Object.entries(process.env)) {
      if (name.startsWith('TSESSION_') && value !== undefined && !name.includes('SECRET')) env[name] = value;
    }
    recorded = { file, recordedAt: new Date().toISOString(), node: process.version, env, rows: [] };
    files.set(file, recorded);
  }
  recorded.rows.push(row);
  mkdirSync(RELIABILITY_DIR, { recursive: true });
  writeFileSync(join(RELIABILITY_DIR, `${file}.json`), `${JSON.stringify(recorded, null, 2)}\n`);
}

/** An integer from the environment variable `name`, else `fallback`. */
export function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!(Number.isInteger(value) && value > 0)) throw new Error(`${name} must be a positive integer, got ${raw}`);
  return value;
}

/** The fast-check runs per property: `TSESSION_FUZZ_RUNS`, else `fallback`, scaled by `share` (at least 1). */
export function fuzzRuns(fallback: number, share = 1): number {
  return Math.max(1, Math.round(envInt('TSESSION_FUZZ_RUNS', fallback) * share));
}

/** Counts by kind, as `kind x n, ...`, or 'none'. */
export function tally(counts: ReadonlyMap<string, number>): string {
  const parts = [...counts].filter(([, n]) => n > 0).map(([kind, n]) => `${kind} x ${n}`);
  return parts.length === 0 ? 'none' : parts.join(', ');
}

/** Adds one to `kind` in `counts`. */
export function bump(counts: Map<string, number>, kind: string, by = 1): void {
  counts.set(kind, (counts.get(kind) ?? 0) + by);
}

/** True when nothing has polluted `Object.prototype`. */
export function prototypeClean(): boolean {
  return (
    ({} as Record<string, unknown>).polluted === undefined &&
    Object.keys(Object.prototype).length === 0 &&
    Object.getOwnPropertyNames(Object.prototype).every((name) => PRISTINE.has(name))
  );
}

const PRISTINE = new Set(Object.getOwnPropertyNames(Object.prototype));

/** One finding of the security review (issue 11), as docs/reliability.md's findings table shows it. */
export interface FindingRow {
  /** The finding's number in issue 11 §2. */
  readonly finding: number;
  /** What was tried, in a few words. */
  readonly tried: string;
  /** How many cases, e.g. `4 stores × 500 names`. */
  readonly cases: string;
  /** What happened, e.g. `SessionNameError x 1,000; 0 written`. */
  readonly outcome: string;
  /** The tests that pin it. */
  readonly tests: string;
}

/**
 * Records a row of the findings table into `.tmp/reliability/security-<file>.json`. The
 * report reads every `security-*.json`, so a branch adds its findings' rows by calling
 * this from its own tests (findings 1, 2, 4, 6 come from the `rules` branch).
 */
export function recordFinding(file: string, row: FindingRow): void {
  let recorded = findings.get(file);
  if (!recorded) {
    recorded = { file: `security-${file}`, recordedAt: new Date().toISOString(), node: process.version, rows: [] };
    findings.set(file, recorded);
  }
  recorded.rows.push(row);
  mkdirSync(RELIABILITY_DIR, { recursive: true });
  writeFileSync(join(RELIABILITY_DIR, `security-${file}.json`), `${JSON.stringify(recorded, null, 2)}\n`);
}

const findings = new Map<string, { file: string; recordedAt: string; node: string; rows: FindingRow[] }>();
