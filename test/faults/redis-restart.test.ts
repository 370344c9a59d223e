/**
 * Store faults through a real node:http app over RedisStore, on a dedicated
 * redis-server child process with persistence on (AOF, fsync always): stopped,
 * killed, restarted under load, and paused (SIGSTOP). Requests during a fault must
 * answer 503 within the store's bound (never hang, never 500), recover by themselves
 * when Redis is back, and lose nothing the app acknowledged. The measured numbers are
 * printed (`[faults]` lines) for docs/reliability.md.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RedisStore } from '../../src/stores/redis/index.js';
import { recordRow } from '../reliability/record.js';
import { type DedicatedRedis, redisBinaryAvailable, startDedicatedRedis } from '../support/redis-server.js';
import { uniquePrefix } from '../support/services.js';
import {
  committedClients,
  type FaultApp,
  type FaultClient,
  heapAfterGc,
  outageUnderLoad,
  pool,
  startFaultApp,
  until,
} from './app.js';

const available = await redisBinaryAvailable();
const TIMEOUT_SECONDS = 1;
/** The longest a request whose store call fails may take: the timeout plus generous slack for a noisy machine. */
const BOUND_MS = (TIMEOUT_SECONDS + 2) * 1000;
/** A request that loads, then commits, may spend the timeout twice. */
const TWO_CALLS_BOUND_MS = (2 * TIMEOUT_SECONDS + 2) * 1000;
const RECOVERY_LIMIT_MS = 15_000;

const report = (line: string) => console.log(`[faults] redis: ${line}`);
/** A row of docs/reliability.md (.tmp/reliability/faults-redis.json). */
const row = (test: string, fields: Omit<Parameters<typeof recordRow>[1], 'test' | 'inputs'>) =>
  recordRow('faults-redis', { test: `RedisStore ${test}`, inputs: 'none', ...fields });
const max = (values: readonly number[]) => Math.round(Math.max(0, ...values));

describe.skipIf(!available)('RedisStore faults through node:http (dedicated redis-server, AOF on)', () => {
  let redis: DedicatedRedis;
  let store: RedisStore;
  let app: FaultApp;

  beforeAll(async () => {
    redis = await startDedicatedRedis();
  });
  afterAll(async () => {
    await redis?.cleanup();
  });
  /** A fresh store (own prefix) and app per test. */
  const open = async () => {
    store = new RedisStore({
      url: redis.url,
      prefix: `${uniquePrefix('faults')}:`,
      commandTimeoutSeconds: TIMEOUT_SECONDS,
    });
    app = await startFaultApp(store);
    await store.load('warm-up', 0); // connected before the test begins
  };
  afterEach(async () => {
    if (redis.pid === undefined) await redis.start();
    await app?.close();
    await store?.close();
    expect(app.unexpected).toEqual([]);
  });

  /** Every client reads back exactly what it was acknowledged (and nothing applied behind its back). */
  const expectIntact = async (clients: readonly FaultClient[]) => {
    for (const client of clients) {
      const answer = await client.read();
      expect(answer.status).toBe(200);
      expect(answer.n).toBe(client.acknowledged);
    }
  };

  it('answers 503 within the bound while Redis is stopped, recovers by itself, and keeps every committed session', async () => {
    await open();
    const clients = await committedClients(app, 20);

    await redis.stop(); // SIGTERM: a clean shutdown
    const outage = await Promise.all(clients.flatMap((c) => [c.inc(), c.read()]).concat(clients.map((c) => c.inc())));
    const serial: number[] = [];
    for (const client of clients.slice(0, 5)) serial.push((await client.inc()).ms, (await client.read()).ms);
    expect(outage.map((a) => a.status)).toEqual(outage.map(() => 503));
    const latencies = [...outage.map((a) => a.ms), ...serial];
    report(`stopped: ${latencies.length} requests, all 503, max latency ${max(latencies)} ms (bound ${BOUND_MS})`);
    for (const ms of latencies) expect(ms).toBeLessThan(BOUND_MS);

    await redis.start();
    const recovery = await until(async () => (await clients[0]!.read()).status === 200, RECOVERY_LIMIT_MS);
    report(`stopped: first 200 ${Math.round(recovery)} ms after redis-server answered PING again`);
    await expectIntact(clients);
    for (const client of clients) expect((await client.inc()).status).toBe(200);
    await expectIntact(clients);
    row('stopped', {
      load: `20 clients with committed counters; ${outage.length} concurrent + ${serial.length} serial requests during the outage`,
      faults: 'redis-server stopped (SIGTERM), then started again (AOF, fsync always)',
      lostWrites: 0,
      errors: `HTTP 503 x ${latencies.length} (all requests during the outage), max latency ${max(latencies)} ms (bound ${BOUND_MS})`,
      recoveryMs: Math.round(recovery),
      notes: 'every committed counter read back exact after recovery; commandTimeoutSeconds 1',
    });
  });

  it.each([
    ['stopped (SIGTERM)', 'stop'],
    ['killed (SIGKILL)', 'kill'],
  ] as const)('loses no acknowledged increment while Redis is %s and restarted under load', async (label, how) => {
    await open();
    const clients = await committedClients(app, 6);
    // Every difference between a counter and its acknowledged increments is a 503 whose write Redis had applied.
    const outage = await outageUnderLoad(clients, {
      fault: () => (how === 'stop' ? redis.stop() : redis.kill()),
      repair: () => redis.start(),
      limitMs: RECOVERY_LIMIT_MS,
      boundMs: TWO_CALLS_BOUND_MS,
    });
    const { statuses, maxMs, applied } = outage;
    report(
      `${label} under load: ${outage.attempted} increments attempted, ${outage.acknowledged} acknowledged, ` +
        `${statuses.get(503)} answered 503, ${applied} applied although answered 503; ` +
        `max latency ${maxMs} ms (bound ${TWO_CALLS_BOUND_MS}); ` +
        `down ${outage.downMs} ms; first 200 ${outage.recoveryMs} ms after redis-server answered PING`,
    );
    row(`${how === 'stop' ? 'stopped' : 'killed'} under load`, {
      load: `6 clients incrementing in a loop, ${outage.attempted} increments attempted`,
      faults: `redis-server ${label} for ${outage.downMs} ms under load, then started again`,
      lostWrites: 0,
      errors: `HTTP 503 x ${statuses.get(503)}, max latency ${maxMs} ms (bound ${TWO_CALLS_BOUND_MS})`,
      recoveryMs: outage.recoveryMs,
      notes: `${outage.acknowledged} acknowledged, all there; ${applied} applied although answered 503 (a timeout cannot tell)`,
    });
  });

  it('answers 503 within the bound while Redis is paused (SIGSTOP), and recovers after SIGCONT', async () => {
    await open();
    const clients = await committedClients(app, 10);
    const [held, ...others] = clients as [FaultClient, ...FaultClient[]];
    // One request has read its counter when Redis freezes; its commit is sent to the frozen server.
    const gate = app.gate();
    const inFlight = held.inc('?gate=1');
    await gate.reached;
    redis.pause();
    gate.release();
    const before = await heapAfterGc();
    const paused = await pool(
      Array.from({ length: 600 }, (_, i) => others[i % others.length] as FaultClient),
      100,
      (client) => (client.attempted % 2 === 0 ? client.inc() : client.read()),
    );
    const after = await heapAfterGc();
    const pending = (store.client as unknown as { commandQueue: { length: number } }).commandQueue.length;
    const caught = await inFlight;
    expect(caught.status).toBe(503);
    expect(paused.map((a) => a.status)).toEqual(paused.map(() => 503));
    const latencies = paused.map((a) => a.ms);
    for (const ms of latencies) expect(ms).toBeLessThan(BOUND_MS);
    expect(caught.ms).toBeLessThan(TWO_CALLS_BOUND_MS);
    expect(after - before).toBeLessThan(20 * 2 ** 20);

    redis.resume();
    const recovery = await until(async () => (await others[0]!.read()).status === 200, RECOVERY_LIMIT_MS);
    await expectIntact(others);
    // The commit that timed out on the frozen server was still in its socket: Redis ran it on SIGCONT.
    // The client was told 503, yet the increment is there: a timeout cannot tell "not applied" from "not answered".
    expect((await held.read()).status).toBe(200);
    expect(held.lastSeen).toBe(held.acknowledged + held.appliedButFailed);
    expect(held.appliedButFailed).toBeLessThanOrEqual(1);
    report(
      `paused: ${paused.length} requests at 100 concurrent, all 503, max latency ${max(latencies)} ms (bound ${BOUND_MS}); ` +
        `the request caught between read and commit: 503 after ${Math.round(caught.ms)} ms, its increment ` +
        `${held.appliedButFailed === 1 ? 'APPLIED on SIGCONT although answered 503' : 'not applied'}; ` +
        `heap ${signedMb(after - before)} MB with ${pending} commands waiting in ioredis for the frozen server; ` +
        `first 200 ${Math.round(recovery)} ms after SIGCONT`,
    );
    row('paused', {
      load: `10 clients; ${paused.length} requests at 100 concurrent while paused, 1 request caught between read and commit`,
      faults: 'redis-server paused (SIGSTOP), then resumed (SIGCONT)',
      lostWrites: 0,
      errors: `HTTP 503 x ${paused.length + 1}, max latency ${max(latencies)} ms (bound ${BOUND_MS})`,
      recoveryMs: Math.round(recovery),
      notes:
        `the caught increment was ${held.appliedButFailed === 1 ? 'applied on SIGCONT although answered 503' : 'not applied'}; ` +
        `heap ${signedMb(after - before)} MB with ${pending} commands queued for the frozen server`,
    });
  });

  it('does not grow memory without bound while Redis is down: 2,000 failed requests', async () => {
    await open();
    const clients = await committedClients(app, 20);
    await redis.stop();
    const before = await heapAfterGc();
    const answers = await pool(
      Array.from({ length: 2_000 }, (_, i) => clients[i % clients.length] as FaultClient),
      20,
      (client) => (client.attempted % 2 === 0 ? client.inc() : client.read()),
    );
    const after = await heapAfterGc();
    const queues = store.client as unknown as { offlineQueue: { length: number }; commandQueue: { length: number } };
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 503));
    expect(queues.offlineQueue.length).toBe(0);
    expect(after - before).toBeLessThan(20 * 2 ** 20);
    report(
      `down: ${answers.length} requests, all 503, max latency ${max(answers.map((a) => a.ms))} ms; ` +
        `heapUsed ${mb(before)} MB before, ${mb(after)} MB after (${signedMb(after - before)} MB); ` +
        `ioredis offline queue ${queues.offlineQueue.length}, command queue ${queues.commandQueue.length}`,
    );
    await redis.start();
    const recovery = await until(async () => (await clients[0]!.read()).status === 200, RECOVERY_LIMIT_MS);
    await expectIntact(clients);
    row('down, memory', {
      load: `${answers.length} requests at 20 concurrent while down`,
      faults: 'redis-server stopped for the whole load, then started again',
      lostWrites: 0,
      errors: `HTTP 503 x ${answers.length}, max latency ${max(answers.map((a) => a.ms))} ms`,
      recoveryMs: Math.round(recovery),
      notes: `heapUsed ${signedMb(after - before)} MB over the outage; ioredis offline queue ${queues.offlineQueue.length}`,
    });
  });
});

function mb(bytes: number): string {
  return (bytes / 2 ** 20).toFixed(1);
}

function signedMb(bytes: number): string {
  return `${bytes < 0 ? '' : '+'}${mb(bytes)}`;
}
