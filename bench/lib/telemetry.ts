/**
 * The bench's telemetry switch: `TSESSION_BENCH_TELEMETRY=1` gives the tsession servers'
 * container `openTelemetry()` over the real SDK (metrics aggregated as in production and
 * collected every 10 s, spans batched), with exporters that drop what they get, so the numbers
 * show what recording costs a request, not what shipping it costs. `=metrics` records metrics
 * only. Unset, the container has no telemetry: the baseline.
 */
import type { SessionTelemetry } from 'tsession';
import { openTelemetry } from 'tsession/telemetry';

export async function benchTelemetry(): Promise<SessionTelemetry | undefined> {
  const mode = process.env.TSESSION_BENCH_TELEMETRY;
  if (mode === undefined || mode === '' || mode === '0') return undefined;
  const { AggregationTemporality, MeterProvider, PeriodicExportingMetricReader } = await import(
    '@opentelemetry/sdk-metrics'
  );
  const { BasicTracerProvider, BatchSpanProcessor } = await import('@opentelemetry/sdk-trace-base');
  const dropping = {
    export: (_data: unknown, done: (result: { code: 0 }) => void) => done({ code: 0 }),
    forceFlush: async () => {},
    shutdown: async () => {},
    selectAggregationTemporality: () => AggregationTemporality.CUMULATIVE,
  };
  const reader = new PeriodicExportingMetricReader({ exporter: dropping, exportIntervalMillis: 10_000 });
  const meterProvider = new MeterProvider({ readers: [reader] });
  if (mode === 'metrics') return openTelemetry({ meterProvider, traces: false });
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(dropping)] });
  return openTelemetry({ meterProvider, tracerProvider });
}
