/**
 * Metrics and traces through the OpenTelemetry API, read back with the SDK's in-memory
 * exporters, over real HTTP through `tsession/http`: every store round trip counted and timed
 * by operation and outcome and wrapped in a span, conflicts and store errors counted, sessions
 * started and ended by each reason. A container without `telemetry` reports nothing, even with
 * an SDK registered globally.
 */
import { createServer } from 'node:http';
import { metrics, trace } from '@opentelemetry/api';
import {
  AggregationTemporality,
  type DataPoint,
  type Histogram,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { withSessions } from '../../src/adapters/http/index.js';
import { CookieClientIdManager, type Session, SessionDataContainer, SessionManager } from '../../src/index.js';
import { openTelemetry } from '../../src/telemetry/index.js';
import { listen } from '../adapters/support/node.js';
import { Gate } from '../adapters/support/routes.js';
import { CountingStore } from '../adapters/support/store.js';
import { countCalls, manualClock, SECRET } from '../helpers.js';
import { everyStore } from '../support/every-store.js';

/** An SDK pipeline whose metrics and spans the test reads on demand. */
function sdk() {
  const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 3_600_000 });
  const meterProvider = new MeterProvider({ readers: [reader] });
  const spans = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
  return {
    meterProvider,
    tracerProvider,
    spans,
    /** The data points of metric `name` as last exported (cumulative). */
    async points<T = number>(name: string): Promise<DataPoint<T>[]> {
      await reader.forceFlush();
      const scopes = metricExporter.getMetrics().at(-1)?.scopeMetrics ?? [];
      const metric = scopes.flatMap((s) => s.metrics).find((m) => m.descriptor.name === name);
      return (metric?.dataPoints ?? []) as DataPoint<T>[];
    },
    async shutdown() {
      await meterProvider.shutdown();
      await tracerProvider.shutdown();
    },
  };
}
type Sdk = ReturnType<typeof sdk>;

/** The sum of the points whose attributes include `match`, or 0. */
function total(points: DataPoint<number>[], match: Record<string, string> = {}): number {
  return points
    .filter((p) => Object.entries(match).every(([k, v]) => p.attributes[k] === v))
    .reduce((sum, p) => sum + p.value, 0);
}

const PKG = 'app.counter';

async function startApp(container: SessionDataContainer, gate: Gate) {
  const clock = manualClock();
  const manager = new SessionManager({ clientIds: new CookieClientIdManager({ secret: SECRET, clock }), container });
  const increment = async (session: Session, wait: boolean) => {
    const data = await session.get(PKG);
    const n = ((data.get('n') as number | undefined) ?? 0) + 1;
    if (wait) await gate.arrive();
    data.set('n', n);
    return String(n);
  };
  const running = await listen(
    createServer(
      withSessions(
        manager,
        async (req, res) => {
          const session = req.session;
          if (req.url === '/write') return res.end(await increment(session, false));
          if (req.url === '/slow-write') return res.end(await increment(session, true));
          if (req.url === '/login') await session.regenerate();
          else if (req.url === '/logout') session.invalidate();
          else await session.get(PKG);
          res.end('ok');
        },
        { onError: () => {} },
      ),
    ),
  );
  const get = async (path: string, cookie?: string) => {
    const response = await fetch(`${running.url}${path}`, cookie ? { headers: { cookie } } : {});
    await response.text();
    return { status: response.status, cookie: response.headers.getSetCookie()[0]?.split(';')[0] ?? cookie };
  };
  return { get, close: () => running.close() };
}

let pipeline: Sdk | undefined;
afterEach(async () => {
  await pipeline?.shutdown();
  pipeline = undefined;
});

describe('openTelemetry() on a container', () => {
  it.each([
    ['a store that loads synchronously (loadNow)', true],
    ['a store read through promises only', false],
  ])(
    'counts, times and traces every store round trip, conflicts, errors, and sessions by reason: %s',
    async (_, syncLoads) => {
      pipeline = sdk();
      const store = new CountingStore({ syncLoads });
      const clock = manualClock();
      const container = new SessionDataContainer({
        store,
        clock,
        sweepIntervalSeconds: 0,
        limit: { max: 2, policy: 'evict' },
        telemetry: openTelemetry({ meterProvider: pipeline.meterProvider, tracerProvider: pipeline.tracerProvider }),
      });
      const gate = new Gate();
      const app = await startApp(container, gate);
      try {
        const a = await app.get('/write'); // started
        expect((await app.get('/read', a.cookie)).status).toBe(200); // load found
        const a2 = await app.get('/login', a.cookie); // started, ended: regenerated
        const b = await app.get('/write'); // started (2 live)
        // A conflict: /slow-write reads, /write commits, then /slow-write commits what it read.
        const slow = app.get('/slow-write', b.cookie);
        await gate.waitFor(1);
        expect((await app.get('/write', b.cookie)).status).toBe(200);
        gate.open();
        expect((await slow).status).toBe(409);
        const c = await app.get('/write'); // started, a third live session: one evicted
        expect((await app.get('/logout', c.cookie)).status).toBe(200); // ended: invalidated
        expect((await app.get('/read', c.cookie)).status).toBe(200); // load missing
        clock.advance(container.timeout + container.resolution + 1);
        const expired = await container.sweep(); // ended: expired
        store.down = true;
        expect((await app.get('/read', a2.cookie)).status).toBe(503); // a store error
        store.down = false;

        const loads = await pipeline.points('tsession.loads');
        expect(total(loads)).toBe(store.loads);
        // With telemetry on, a synchronous store is still read synchronously (timed by storeCallNow).
        expect(store.promisedLoads).toBe(syncLoads ? 0 : store.loads);
        expect(total(loads, { 'tsession.outcome': 'missing' })).toBeGreaterThanOrEqual(1);
        expect(total(loads, { 'tsession.outcome': 'error' })).toBe(1);
        const commits = await pipeline.points('tsession.commits');
        expect(total(commits)).toBe(store.commits);
        expect(total(commits, { 'tsession.outcome': 'conflict' })).toBe(1);
        expect(total(await pipeline.points('tsession.conflicts'), { 'tsession.conflict.reason': 'version' })).toBe(1);
        const errors = await pipeline.points('tsession.store.errors');
        expect(errors.map((p) => [p.attributes['tsession.operation'], p.attributes['error.type'], p.value])).toEqual([
          ['load', 'TSESSION_STORE_UNAVAILABLE', 1],
        ]);

        expect(total(await pipeline.points('tsession.sessions.started'))).toBe(4);
        const ended = await pipeline.points('tsession.sessions.ended');
        const reason = (r: string) => total(ended, { 'tsession.end.reason': r });
        expect([reason('regenerated'), reason('evicted'), reason('invalidated'), reason('expired')]).toEqual([
          1,
          1,
          1,
          expired,
        ]);
        expect(expired).toBeGreaterThanOrEqual(1);

        const durations = await pipeline.points<Histogram>('tsession.store.duration');
        const count = (operation: string) =>
          durations
            .filter((p) => p.attributes['tsession.operation'] === operation)
            .reduce((sum, p) => sum + p.value.count, 0);
        expect([count('load'), count('commit'), count('destroy'), count('sweep')]).toEqual([
          store.loads,
          store.commits,
          store.destroys,
          1,
        ]);
        expect(durations.every((p) => p.attributes['tsession.store'] === 'CountingStore')).toBe(true);

        const spans = pipeline.spans.getFinishedSpans();
        const named = (name: string) => spans.filter((s) => s.name === name).length;
        expect([
          named('tsession.load'),
          named('tsession.commit'),
          named('tsession.destroy'),
          named('tsession.sweep'),
        ]).toEqual([store.loads, store.commits, store.destroys, 1]);
        expect(spans).toHaveLength(store.loads + store.commits + store.destroys + 1);
        const failed = spans.filter((s) => s.status.code === 2).map((s) => [s.name, s.attributes['error.type']]);
        expect(failed.sort()).toEqual([
          ['tsession.commit', 'TSESSION_CONFLICT'],
          ['tsession.load', 'TSESSION_STORE_UNAVAILABLE'],
        ]);
      } finally {
        await app.close();
      }
    },
  );

  it('reports nothing for a container without it, even with an SDK registered globally', async () => {
    pipeline = sdk();
    metrics.setGlobalMeterProvider(pipeline.meterProvider);
    trace.setGlobalTracerProvider(pipeline.tracerProvider);
    try {
      const store = new CountingStore();
      const app = await startApp(new SessionDataContainer({ store, sweepIntervalSeconds: 0 }), new Gate());
      try {
        const { cookie } = await app.get('/write');
        await app.get('/read', cookie);
        await app.get('/logout', cookie);
        expect(store.calls).toBeGreaterThanOrEqual(3);
      } finally {
        await app.close();
      }
      expect(await pipeline.points('tsession.loads')).toEqual([]);
      expect(await pipeline.points('tsession.commits')).toEqual([]);
      expect(pipeline.spans.getFinishedSpans()).toEqual([]);
    } finally {
      metrics.disable();
      trace.disable();
    }
  });

  it('uses the global providers by default, and traces can be turned off', async () => {
    pipeline = sdk();
    metrics.setGlobalMeterProvider(pipeline.meterProvider);
    trace.setGlobalTracerProvider(pipeline.tracerProvider);
    try {
      const store = new CountingStore();
      const telemetry = openTelemetry({ traces: false, attributes: { 'tsession.container': 'main' } });
      const app = await startApp(new SessionDataContainer({ store, sweepIntervalSeconds: 0, telemetry }), new Gate());
      try {
        await app.get('/write');
      } finally {
        await app.close();
      }
      const commits = await pipeline.points('tsession.commits');
      expect(
        commits.map((p) => [p.attributes['tsession.container'], p.attributes['tsession.outcome'], p.value]),
      ).toEqual([['main', 'ok', 1]]);
      expect(pipeline.spans.getFinishedSpans()).toEqual([]);
    } finally {
      metrics.disable();
      trace.disable();
    }
  });
});

const { kinds, cleanup } = await everyStore('otel');
afterAll(cleanup);
const stores = kinds.map((kind) => [kind.name, kind.available, () => kind.open()] as const);

describe.each(stores)('openTelemetry() on %s', (name, available, open) => {
  it.skipIf(!available)('counts and traces each round trip the store saw, under its class name', async () => {
    pipeline = sdk();
    const store = await open();
    const calls = countCalls(store);
    const telemetry = openTelemetry({ meterProvider: pipeline.meterProvider, tracerProvider: pipeline.tracerProvider });
    const container = new SessionDataContainer({ store, sweepIntervalSeconds: 0, telemetry });
    const app = await startApp(container, new Gate());
    try {
      const a = await app.get('/write');
      await app.get('/write', a.cookie);
      const b = await app.get('/login', a.cookie);
      await app.get('/read', b.cookie);
      await app.get('/logout', b.cookie);
      await app.get('/read', b.cookie);
    } finally {
      await app.close();
      await store.close();
    }
    expect(total(await pipeline.points('tsession.loads'), { 'tsession.store': name })).toBe(calls.load);
    expect(total(await pipeline.points('tsession.loads'), { 'tsession.outcome': 'missing' })).toBe(1);
    expect(total(await pipeline.points('tsession.commits'), { 'tsession.outcome': 'ok' })).toBe(calls.commit);
    expect(total(await pipeline.points('tsession.sessions.started'))).toBe(2);
    const ended = await pipeline.points('tsession.sessions.ended');
    expect([
      total(ended, { 'tsession.end.reason': 'regenerated' }),
      total(ended, { 'tsession.end.reason': 'invalidated' }),
    ]).toEqual([1, 1]);
    const spans = pipeline.spans.getFinishedSpans();
    expect(spans).toHaveLength(calls.load + calls.commit + calls.destroy);
    expect(spans.every((s) => s.attributes['tsession.store'] === name && s.status.code !== 2)).toBe(true);
  });
});
