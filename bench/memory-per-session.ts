/**
 * Heap bytes per idle session in MemoryStore. Run with `--expose-gc`:
 *
 *   node --expose-gc --conditions=tsession-source --import tsx bench/memory-per-session.ts [--n 100000] [--json]
 *
 * Creates N sessions the way an app does (SessionManager.open, get, set one small
 * value, commit), collects garbage, and divides the heap's growth by N. The bytes of
 * the stored value itself (its encoding, measured the same way on its own) are
 * reported separately and subtracted, so what is left is the store's overhead.
 */
import { CookieClientIdManager, jsonCodec, SessionDataContainer, SessionManager, type SessionRequest } from 'tsession';
import { MemoryStore } from 'tsession/memory';
import { emit, numberFlag } from './lib/args.js';
import { median } from './lib/stats.js';

/** What this script reports. */
export interface MemoryPerSessionResult {
  sessions: number;
  /** Heap growth per session, value included. */
  heapBytesPerSession: number;
  /** Heap bytes of the stored value's encoding alone. */
  valueBytes: number;
  /** heapBytesPerSession - valueBytes: the store's own cost of an idle session. */
  overheadBytes: number;
  /** RSS growth per session (noisier: the allocator keeps pages). */
  rssBytesPerSession: number;
}

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('memory-per-session: run node with --expose-gc');
const collect = () => {
  for (let i = 0; i < 4; i++) gc();
};

const N = numberFlag('n', 100_000);
const request: SessionRequest = { method: 'GET', url: '/', secure: false, header: () => undefined };
/** The stored value: a small counter, distinct per session so no encoding is shared. */
const storedValue = (i: number) => 100_000 + i;

function makeManager(max: number) {
  const store = new MemoryStore({ maxSessions: max, sweepIntervalSeconds: 0 });
  const manager = new SessionManager({
    clientIds: new CookieClientIdManager({ secret: 'bench-secret-bench-secret-bench-secret-0123' }),
    container: new SessionDataContainer({ store }),
  });
  return { store, manager };
}

async function fill(manager: SessionManager, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const session = manager.open(request);
    const data = await session.get('bench');
    data.set('n', storedValue(i));
    await session.commit();
  }
}

// Warm up the code paths in a store that is then dropped, so JIT code is not counted.
await fill(makeManager(10_000).manager, 5_000);

// The value's own cost: the same encodings held in a preallocated array.
const holder: unknown[] = new Array(N).fill(0);
collect();
const before = process.memoryUsage().heapUsed;
for (let i = 0; i < N; i++) holder[i] = jsonCodec.encode(storedValue(i), ['bench', 'n']);
collect();
const valueBytes = (process.memoryUsage().heapUsed - before) / N;
holder.length = 0;

/** One fresh store of N sessions: heap and RSS growth per session. */
async function measureOnce(): Promise<{ heap: number; rss: number }> {
  const { store, manager } = makeManager(N * 2);
  collect();
  const heapBefore = process.memoryUsage().heapUsed;
  const rssBefore = process.memoryUsage().rss;
  await fill(manager, N);
  collect();
  const after = process.memoryUsage();
  if (store.size !== N) throw new Error(`memory-per-session: expected ${N} sessions, the store holds ${store.size}`);
  await manager.close();
  return { heap: (after.heapUsed - heapBefore) / N, rss: (after.rss - rssBefore) / N };
}

// The median of a few fresh stores: one run's figure moves with what the GC left behind.
const runs: { heap: number; rss: number }[] = [];
for (let i = 0; i < numberFlag('reps', 3); i++) runs.push(await measureOnce());
const heapBytesPerSession = median(runs.map((r) => r.heap));
const result: MemoryPerSessionResult = {
  sessions: N,
  heapBytesPerSession,
  valueBytes,
  overheadBytes: heapBytesPerSession - valueBytes,
  rssBytesPerSession: median(runs.map((r) => r.rss)),
};
emit(
  result,
  `memory per idle session (${N.toLocaleString('en-US')} sessions, median of ${runs.length} stores): heap ${heapBytesPerSession.toFixed(0)} B, ` +
    `of which the value ${valueBytes.toFixed(0)} B -> overhead ${result.overheadBytes.toFixed(0)} B; ` +
    `RSS ${result.rssBytesPerSession.toFixed(0)} B`,
);
