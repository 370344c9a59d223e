/**
 * Hot keys (issue 14 §2): `--clients` clients (50) incrementing one counter of one session,
 * `--requests` requests in all (2000), in three ways, each on a fresh store:
 *
 * - `increment`: `data.increment('n')`, added by the store;
 * - `resolver`: read, `set('n', n + 1)`, and a resolver on the key that merges a conflict;
 * - `retry`: read, `set('n', n + 1)` inside `retryOnConflict({ attempts })` (`--attempts`, 3).
 *
 * Reports per way: increments acknowledged (200), the counter at the end, lost increments
 * (acknowledged but not counted: must be 0), 409 answers, handler runs and requests/s.
 * The clients run in this process (fetch over loopback HTTP), so requests/s compare the
 * three ways with each other, not with `npm run bench`'s figures.
 *
 *   node --conditions=tsession-source --import tsx bench/hot-keys.ts [--store memory|sqlite|redis|postgres]
 *        [--clients 50] [--requests 2000] [--attempts 3] [--json]
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CookieClientIdManager,
  SessionDataContainer,
  type SessionDataContainerOptions,
  SessionManager,
} from 'tsession';
import { retryOnConflict, type SessionIncomingMessage, withSessions } from 'tsession/http';
import { emit, numberFlag } from './lib/args.js';
import { openStore, type StoreKind } from './lib/stores.js';

/** One way's figures. */
export interface HotKeyMeasurement {
  way: 'increment' | 'resolver' | 'retry';
  acknowledged: number;
  counter: number;
  lost: number;
  conflicts: number;
  otherErrors: number;
  handlerRuns: number;
  requestsPerSecond: number;
}

/** What this script reports. */
export interface HotKeysResult {
  store: StoreKind;
  clients: number;
  requests: number;
  attempts: number;
  measurements: HotKeyMeasurement[];
  skipped?: string;
}

const PKG = 'bench.hot';
const storeArg = process.argv[process.argv.indexOf('--store') + 1];
const kind: StoreKind = (['memory', 'sqlite', 'redis', 'postgres'] as const).find((k) => k === storeArg) ?? 'memory';
const clients = numberFlag('clients', 50);
const requests = numberFlag('requests', 2000);
const attempts = numberFlag('attempts', 3);

type Handler = (req: SessionIncomingMessage, res: ServerResponse) => unknown;

async function measure(way: HotKeyMeasurement['way']): Promise<HotKeyMeasurement | string> {
  const opened = await openStore(kind);
  if (typeof opened === 'string') return opened;
  let runs = 0;
  const readThenWrite: Handler = async (req, res) => {
    runs++;
    const data = await req.session.get(PKG);
    data.set('n', ((data.get('n') as number | undefined) ?? 0) + 1);
    res.end('ok');
  };
  const increment: Handler = async (req, res) => {
    runs++;
    (await req.session.get(PKG)).increment('n');
    res.end('ok');
  };
  const options: Partial<SessionDataContainerOptions> =
    way === 'resolver'
      ? { resolvers: { [PKG]: { n: (stored, read, mine) => Number(stored ?? 0) + Number(mine) - Number(read ?? 0) } } }
      : {};
  const handler =
    way === 'increment' ? increment : way === 'retry' ? retryOnConflict(readThenWrite, { attempts }) : readThenWrite;
  const manager = new SessionManager({
    clientIds: new CookieClientIdManager({ secret: 'bench-hot-keys-secret-0123456789abcdef' }),
    container: new SessionDataContainer({ store: opened.store, sweepIntervalSeconds: 0, ...options }),
  });
  const server = createServer(
    withSessions(
      manager,
      (req: SessionIncomingMessage, res) => (req.url === '/seed' ? seed(req, res) : handler(req, res)),
      {
        onError: () => {},
      },
    ) as (req: IncomingMessage, res: ServerResponse) => void,
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const seeded = await fetch(`${base}/seed`);
    const cookie = seeded.headers.get('set-cookie')?.split(';')[0] ?? '';
    runs = 0;
    const statuses = new Map<number, number>();
    let sent = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: clients }, async () => {
        while (sent < requests) {
          sent++;
          const answer = await fetch(`${base}/inc`, { headers: { cookie } });
          await answer.arrayBuffer();
          statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const counter = Number(await (await fetch(`${base}/seed`, { headers: { cookie } })).text());
    const acknowledged = statuses.get(200) ?? 0;
    const conflicts = statuses.get(409) ?? 0;
    return {
      way,
      acknowledged,
      counter,
      lost: acknowledged - counter,
      conflicts,
      otherErrors: requests - acknowledged - conflicts,
      handlerRuns: runs,
      requestsPerSecond: Math.round(requests / seconds),
    };
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await opened.dispose();
  }
}

/** `/seed` creates the session (first call) and answers the counter's value. */
async function seed(req: SessionIncomingMessage, res: ServerResponse): Promise<void> {
  const data = await req.session.get(PKG);
  if (!data.has('n')) data.set('n', 0);
  res.end(String(data.get('n')));
}

const measurements: HotKeyMeasurement[] = [];
let skipped: string | undefined;
for (const way of ['increment', 'resolver', 'retry'] as const) {
  const result = await measure(way);
  if (typeof result === 'string') {
    skipped = result;
    break;
  }
  measurements.push(result);
}
const result: HotKeysResult = { store: kind, clients, requests, attempts, measurements, ...(skipped && { skipped }) };
const rows = measurements.map(
  (m) =>
    `| ${m.way} | ${m.acknowledged} | ${m.counter} | ${m.lost} | ${m.conflicts} | ${m.handlerRuns} | ${m.requestsPerSecond} |`,
);
emit(
  result,
  [
    `hot keys on ${kind}: ${clients} clients, ${requests} increments of one counter in one session (retry: ${attempts} attempts)`,
    '| way | acknowledged | counter | lost | 409s | handler runs | requests/s |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
    ...(skipped ? [`skipped: ${skipped}`] : []),
  ].join('\n'),
);
