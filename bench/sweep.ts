/**
 * Sweep time: 10k expired records among 10k stored vs among a large store (1M by
 * default), for MemoryStore and, when it exists, SqliteStore. Run with `--expose-gc`:
 *
 *   node --expose-gc --conditions=tsession-source --import tsx bench/sweep.ts [--large 1000000] [--expired 10000]
 *        [--small 10000] [--reps 5] [--fill-budget 180] [--stores memory,sqlite,redis,postgres] [--json]
 *
 * `--small` is the small store's size (default: `--expired`, i.e. nothing live in it); issue
 * 13's row is `--stores redis --small 100000 --large 1000000 --expired 10000`.
 *
 * Stores are filled directly through `store.commit` on an injected `now`. The large
 * store's live records are written once; each repetition then adds `expired` records
 * that have already expired to each store and times `store.sweep(now)`, small and large
 * in turn, after one discarded warm-up repetition. A fill slower than
 * `--fill-budget` seconds stops early, and the size actually reached is reported.
 */
import type { SessionDelta, SessionStore } from 'tsession';
import { emit, numberFlag } from './lib/args.js';
import { max, median, min } from './lib/stats.js';
import { openStore, type StoreKind } from './lib/stores.js';

/** One store size's sweep timings. */
export interface SweepMeasurement {
  store: StoreKind;
  /** Records stored when the sweep ran, expired ones included. */
  stored: number;
  expired: number;
  medianMs: number;
  minMs: number;
  maxMs: number;
  /** Seconds it took to write the live records. */
  fillSeconds: number;
  /** Set when the fill stopped at its time budget below the requested size. */
  note?: string;
}

/** What this script reports: per store, the small and the large case and their ratio. */
export interface SweepResult {
  measurements: SweepMeasurement[];
  skipped: Record<string, string>;
}

const T0 = 1_700_000_000;
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

function delta(expiresAt: number): SessionDelta {
  return { create: true, touch: { lastAccess: T0, expiresAt }, writes: [{ pkg: 'bench', key: 'n', value: '1' }] };
}

/** A store on a better-sqlite3 connection it exposes (SqliteStore): its fill can be batched in transactions. */
interface WithDatabase {
  database: { exec(sql: string): unknown; inTransaction: boolean };
}
const FILL_BATCH = 10_000;

/**
 * Writes up to `count` live records (expiring 1-2 h after T0, spread over many slices)
 * through `store.commit`; stops at the budget. On SQLite, every 10k commits share one
 * transaction (each commit's own transaction becomes a savepoint), so the fill is not
 * bound by one WAL commit per record.
 */
async function fillLive(store: SessionStore, count: number, budgetSeconds: number): Promise<number> {
  const deadline = performance.now() + budgetSeconds * 1000;
  const db = (store as Partial<WithDatabase>).database;
  for (let start = 0; start < count; start += FILL_BATCH) {
    if (store.importBatch) {
      // the store's bulk path (Redis pipelines, PostgreSQL multi-row inserts): the fill takes seconds, not minutes
      const records = Array.from({ length: Math.min(count, start + FILL_BATCH) - start }, (_, j) => ({
        key: `live-${start + j}`,
        createdAt: T0,
        lastAccess: T0,
        expiresAt: T0 + 3600 + ((start + j) % 3600),
        entries: [{ pkg: 'bench', key: 'n', value: '1' }],
      }));
      await store.importBatch(records, T0, { replace: false });
      if (performance.now() > deadline) return Math.min(count, start + FILL_BATCH);
      continue;
    }
    db?.exec('BEGIN');
    try {
      for (let i = start; i < Math.min(count, start + FILL_BATCH); i++) {
        await store.commit(`live-${i}`, delta(T0 + 3600 + (i % 3600)), T0);
      }
    } finally {
      if (db?.inTransaction) db.exec('COMMIT');
    }
    if (performance.now() > deadline) return Math.min(count, start + FILL_BATCH);
  }
  return count;
}

/** Adds `expired` already-expired records to `store`, sweeps, and returns the sweep's milliseconds. */
async function sweepOnce(
  store: SessionStore,
  kind: StoreKind,
  expired: number,
  tag: string,
  now: number,
): Promise<number> {
  for (let i = 0; i < expired; i++) await store.commit(`expired-${tag}-${i}`, delta(T0 + 10 + (i % 50)), T0);
  gc();
  const start = performance.now();
  const removed = await store.sweep(now);
  const ms = performance.now() - start;
  if (removed !== expired) throw new Error(`sweep removed ${removed} of ${expired} expired records (${kind})`);
  return ms;
}

/**
 * The small and the large store side by side: both are opened, the large one filled,
 * then each repetition sweeps the small one and the large one in turn (A B A B), after
 * one discarded warm-up repetition, so the JIT and the machine's drift hit both alike.
 */
async function measure(
  kind: StoreKind,
  large: number,
  expired: number,
  reps: number,
  budgetSeconds: number,
): Promise<SweepMeasurement[] | string> {
  const small = await openStore(kind, { maxSessions: smallSize + 1 });
  if (typeof small === 'string') return small;
  const big = await openStore(kind, { maxSessions: large + expired + 1 });
  if (typeof big === 'string') {
    await small.dispose();
    return big;
  }
  try {
    const smallLive = await fillLive(small.store, smallSize - expired, budgetSeconds);
    const fillStart = performance.now();
    const live = await fillLive(big.store, large - expired, budgetSeconds);
    const fillSeconds = (performance.now() - fillStart) / 1000;
    const times: [number[], number[]] = [[], []];
    for (let rep = -1; rep < reps; rep++) {
      const now = T0 + 100 + rep + 1;
      const a = await sweepOnce(small.store, kind, expired, `${rep}`, now);
      const b = await sweepOnce(big.store, kind, expired, `${rep}`, now);
      if (rep < 0) continue;
      times[0].push(a);
      times[1].push(b);
    }
    const summary = (stored: number, ms: number[], fill: number): SweepMeasurement => ({
      store: kind,
      stored,
      expired,
      medianMs: median(ms),
      minMs: min(ms),
      maxMs: max(ms),
      fillSeconds: fill,
    });
    const largeResult = summary(live + expired, times[1], fillSeconds);
    if (live < large - expired) {
      largeResult.note = `fill stopped at its ${budgetSeconds} s budget: ${live + expired} stored instead of ${large}`;
    }
    return [summary(smallLive + expired, times[0], 0), largeResult];
  } finally {
    await small.dispose();
    await big.dispose();
  }
}

const large = numberFlag('large', 1_000_000);
const expired = numberFlag('expired', 10_000);
const smallSize = Math.max(numberFlag('small', expired), expired);
const reps = numberFlag('reps', 5);
const budget = numberFlag('fill-budget', 180);
const storesAt = process.argv.indexOf('--stores');
const kinds = (storesAt >= 0 ? (process.argv[storesAt + 1] ?? '') : 'memory,sqlite').split(',') as StoreKind[];

const result: SweepResult = { measurements: [], skipped: {} };
for (const kind of kinds) {
  const measured = await measure(kind, large, expired, reps, budget);
  if (typeof measured === 'string') {
    result.skipped[kind] = measured;
    process.stderr.write(`sweep ${kind}: skipped: ${measured}\n`);
    continue;
  }
  for (const m of measured) {
    result.measurements.push(m);
    process.stderr.write(
      `sweep ${kind}: ${m.expired.toLocaleString('en-US')} expired among ${m.stored.toLocaleString('en-US')}: ` +
        `median ${m.medianMs.toFixed(2)} ms (min ${m.minMs.toFixed(2)}, max ${m.maxMs.toFixed(2)}; fill ${m.fillSeconds.toFixed(1)} s)` +
        (m.note ? ` [${m.note}]` : '') +
        '\n',
    );
  }
}
emit(result, '');
