/**
 * The app the fault tests break: a real node:http server (in process, ephemeral port)
 * wrapped by `withSessions`, over any store, and HTTP clients that keep their cookie.
 *
 * Routes, all on the package `faults.counter`:
 * - `GET /inc` reads `n`, writes `n + 1`, answers `{ n }` (a read-modify-write commit).
 * - `GET /inc?gate=1` the same, but waits for `app.gate()` to be released between the
 *   read and the write, so a test can break the store in between.
 * - `GET /read` answers `{ n }` and writes nothing (beyond a last-access touch).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { expect } from 'vitest';
import { withSessions } from '../../src/adapters/http/index.js';
import {
  CookieClientIdManager,
  isSessionError,
  SessionDataContainer,
  SessionManager,
  type SessionStore,
} from '../../src/index.js';
import { SECRET } from '../helpers.js';

const PKG = 'faults.counter';

export interface FaultApp {
  readonly url: string;
  /** Errors the adapter answered with a status other than 503 (should stay empty). */
  readonly unexpected: unknown[];
  /** How many requests the adapter answered 503 (StoreUnavailableError). */
  readonly unavailable: number;
  /** The message of the last StoreUnavailableError, for diagnosis. */
  readonly lastUnavailable: string | undefined;
  /** Holds the next `?gate=1` request between its read and its write until `release()`. */
  gate(): { reached: Promise<void>; release: () => void };
  close(): Promise<void>;
}

export async function startFaultApp(store: SessionStore): Promise<FaultApp> {
  const container = new SessionDataContainer({ store });
  const manager = new SessionManager({ clientIds: new CookieClientIdManager({ secret: SECRET }), container });
  const unexpected: unknown[] = [];
  let unavailable = 0;
  let lastUnavailable: string | undefined;
  let held: { reached: () => void; released: Promise<void> } | undefined;
  const onError = (error: unknown) => {
    if (isSessionError(error) && error.status === 503) {
      unavailable++;
      lastUnavailable = error.message;
    } else unexpected.push(error);
  };
  const server: Server = createServer(
    withSessions(
      manager,
      async (req, res) => {
        const url = new URL(req.url ?? '/', 'http://app');
        const data = await req.session.get(PKG);
        const n = (data.get('n') as number | undefined) ?? 0;
        if (url.pathname === '/inc') {
          if (url.searchParams.has('gate') && held) {
            const gate = held;
            held = undefined;
            gate.reached();
            await gate.released;
          }
          data.set('n', n + 1);
          res.setHeader('content-type', 'application/json');
          return res.end(JSON.stringify({ n: n + 1 }));
        }
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ n }));
      },
      { onError },
    ),
  );
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    unexpected,
    get unavailable() {
      return unavailable;
    },
    get lastUnavailable() {
      return lastUnavailable;
    },
    gate() {
      let reached!: () => void;
      let release!: () => void;
      const reachedP = new Promise<void>((r) => (reached = r));
      const released = new Promise<void>((r) => (release = r));
      held = { reached, released };
      return { reached: reachedP, release };
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** One response as a client saw it. */
export interface Answer {
  readonly status: number;
  /** The counter the app answered (200 only). */
  readonly n: number | undefined;
  /** Wall time of the request, in milliseconds. */
  readonly ms: number;
}

/**
 * A client with a cookie jar of one cookie, which tallies its increments: attempted,
 * acknowledged (200), and the counter values the 200s reported.
 */
export function faultClient(baseUrl: string) {
  let cookie: string | undefined;
  const client = {
    attempted: 0,
    acknowledged: 0,
    /** The counter the last 200 of `/inc` or `/read` reported. */
    lastSeen: 0,
    /**
     * Increments the store applied although their request got a 503: seen as a jump
     * of the counter beyond the acknowledged increments between two 200s.
     */
    appliedButFailed: 0,
    get cookie() {
      return cookie;
    },
    async get(path: string): Promise<Answer> {
      const started = performance.now();
      const res = await fetch(baseUrl + path, {
        headers: cookie ? { cookie } : {},
        signal: AbortSignal.timeout(60_000),
      });
      const setCookie = res.headers.getSetCookie()[0];
      if (setCookie && res.status === 200) cookie = setCookie.split(';')[0];
      const body = await res.text();
      const n = res.status === 200 ? (JSON.parse(body) as { n: number }).n : undefined;
      return { status: res.status, n, ms: performance.now() - started };
    },
    /** `GET /inc`, tallied. */
    async inc(query = ''): Promise<Answer> {
      client.attempted++;
      const answer = await client.get(`/inc${query}`);
      if (answer.status === 200) {
        client.acknowledged++;
        client.observe((answer.n as number) - 1);
        client.lastSeen = answer.n as number;
      }
      return answer;
    },
    /** `GET /read`, tallied. */
    async read(): Promise<Answer> {
      const answer = await client.get('/read');
      if (answer.status === 200) {
        client.observe(answer.n as number);
        client.lastSeen = answer.n as number;
      }
      return answer;
    },
    /** Records a jump: `before` is the counter the store held before this 200's own write. */
    observe(before: number) {
      if (before < client.lastSeen) throw new Error(`counter went back from ${client.lastSeen} to ${before}`);
      client.appliedButFailed += before - client.lastSeen;
    },
  };
  return client;
}

export type FaultClient = ReturnType<typeof faultClient>;

/** `clients` clients with acknowledged increments each (client i counts to i + 1), made before a fault. */
export async function committedClients(app: FaultApp, clients: number): Promise<FaultClient[]> {
  const all = Array.from({ length: clients }, () => faultClient(app.url));
  await Promise.all(
    all.map(async (client, i) => {
      for (let k = 0; k <= i; k++) {
        const { status } = await client.inc();
        if (status !== 200) throw new Error(`setup increment failed (${status}): ${app.lastUnavailable}`);
      }
    }),
  );
  return all;
}

/** Runs `task` for each item with at most `limit` running at once; resolves the results in order. */
export async function pool<T, R>(items: readonly T[], limit: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await task(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Polls `probe` every 50 ms until it resolves true; resolves the milliseconds it took, or throws after `limitMs`. */
export async function until(probe: () => Promise<boolean>, limitMs: number): Promise<number> {
  const started = performance.now();
  while (!(await probe())) {
    if (performance.now() - started > limitMs) throw new Error(`no recovery within ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return performance.now() - started;
}

/** Heap in use after a full garbage collection (exposes `gc` through V8 flags if the process was not started with it). */
export async function heapAfterGc(): Promise<number> {
  const { setFlagsFromString } = await import('node:v8');
  const { runInNewContext } = await import('node:vm');
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setImmediate(r));
  }
  return process.memoryUsage().heapUsed;
}

/** What {@link outageUnderLoad} saw. */
export interface Outage {
  /** Answers per HTTP status over the whole load. */
  readonly statuses: Map<number, number>;
  /** The highest request latency, in milliseconds. */
  readonly maxMs: number;
  /** Milliseconds from the end of `fault()` to the end of `repair()`. */
  readonly downMs: number;
  /** Milliseconds from the end of `repair()` to the first 200 sent after it. */
  readonly recoveryMs: number;
  readonly attempted: number;
  readonly acknowledged: number;
  /** Increments the store applied although their request got a 503. */
  readonly applied: number;
}

/**
 * An outage under load: `clients` increment in a loop (backing off 20 ms after a failure)
 * through phases that end on what was answered, never on the clock, so a busy machine
 * stretches a phase and never skips one: 300 answers 200, then `fault()` and 120 answers
 * 503, then `repair()`, a 200 sent after it and 300 more. Then the load stops and the
 * checks every outage test makes run: only 200s and 503s; every latency under `boundMs`;
 * every counter is its acknowledged increments plus the 503s whose write the store had
 * applied (a jump a later 200 saw), so no acknowledged increment was lost.
 */
export async function outageUnderLoad(
  clients: readonly FaultClient[],
  phases: { fault(): Promise<unknown>; repair(): Promise<unknown>; limitMs: number; boundMs: number },
): Promise<Outage> {
  let running = true;
  const answers: { status: number; ms: number; at: number }[] = [];
  const load = Promise.all(
    clients.map(async (client) => {
      while (running) {
        const answer = await client.inc();
        answers.push({ status: answer.status, ms: answer.ms, at: performance.now() });
        if (answer.status !== 200) await new Promise((r) => setTimeout(r, 20));
      }
    }),
  );
  const seen = (status: number, since: number, n: number) =>
    answers.filter((a) => a.status === status && a.at > since).length >= n;
  let faultedAt = 0;
  let repairedAt = 0;
  try {
    await until(async () => seen(200, 0, 300), phases.limitMs);
    await phases.fault();
    faultedAt = performance.now();
    // every client fails about 20 times while the store is away
    await until(async () => seen(503, faultedAt, 120), phases.limitMs);
    await phases.repair();
    repairedAt = performance.now();
    await until(async () => seen(200, repairedAt, 300), phases.limitMs);
  } finally {
    running = false;
    await load;
  }

  const statuses = new Map<number, number>();
  for (const a of answers) statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
  expect([...statuses.keys()].sort()).toEqual([200, 503]);
  const maxMs = Math.round(Math.max(0, ...answers.map((a) => a.ms)));
  expect(maxMs).toBeLessThan(phases.boundMs);
  let applied = 0;
  for (const client of clients) {
    const answer = await client.read();
    expect(answer.status).toBe(200);
    const counter = answer.n as number;
    expect(counter).toBeGreaterThanOrEqual(client.acknowledged);
    expect(counter).toBeLessThanOrEqual(client.attempted);
    expect(counter).toBe(client.acknowledged + client.appliedButFailed);
    applied += client.appliedButFailed;
  }
  const firstOk = Math.min(...answers.filter((a) => a.status === 200 && a.at > repairedAt).map((a) => a.at));
  const sum = (pick: (c: FaultClient) => number) => clients.reduce((t, c) => t + pick(c), 0);
  return {
    statuses,
    maxMs,
    downMs: Math.round(repairedAt - faultedAt),
    recoveryMs: Math.round(firstOk - repairedAt),
    attempted: sum((c) => c.attempted),
    acknowledged: sum((c) => c.acknowledged),
    applied,
  };
}
