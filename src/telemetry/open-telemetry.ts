import {
  type Attributes,
  type Counter,
  context,
  type Histogram,
  type Meter,
  type MeterProvider,
  metrics,
  type Span,
  SpanKind,
  type SpanOptions,
  SpanStatusCode,
  type Tracer,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';
import type { SessionEndReason, SessionTelemetry, StoreOperation, TelemetryProbe } from '../container/telemetry.js';
import { ConflictError, isSessionError, SessionLimitError, SessionTooLargeError } from '../errors.js';
import type { SessionStore } from '../stores/types.js';

/** The instrumentation scope of every meter and tracer tsession asks for. */
export const SCOPE = 'tsession';

/** Options of {@link openTelemetry}. */
export interface OpenTelemetryOptions {
  /**
   * Where the metrics go. The global one is read when `openTelemetry()` is called (the metrics
   * API has no proxy), so register the SDK's before, or pass it here.
   * @default metrics.getMeterProvider()
   */
  meterProvider?: MeterProvider;
  /** Where the spans go. @default trace.getTracerProvider() (the global one, also when registered later) */
  tracerProvider?: TracerProvider;
  /** A span per store round trip. @default true */
  traces?: boolean;
  /** Added to every data point and span, e.g. `{ 'tsession.container': 'carts' }`. @default {} */
  attributes?: Attributes;
}

/** How a store round trip ended, as the `tsession.outcome` attribute says. */
type Outcome = 'found' | 'missing' | 'ok' | 'conflict' | 'refused' | 'error';
const OUTCOMES: readonly Outcome[] = ['found', 'missing', 'ok', 'conflict', 'refused', 'error'];
const OPERATIONS: readonly StoreOperation[] = ['load', 'commit', 'destroy', 'sweep'];
const END_REASONS: readonly SessionEndReason[] = ['expired', 'invalidated', 'regenerated', 'evicted'];
const CONFLICT_REASONS = ['version', 'gone', 'exists'] as const;

/** Histogram buckets in seconds, from 50 µs (a memory store) to 2.5 s (a store in trouble). */
const LATENCY_BUCKETS = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
];

/** The instruments, made once per {@link openTelemetry} call and shared by its containers. */
interface Instruments {
  readonly loads: Counter;
  readonly commits: Counter;
  readonly conflicts: Counter;
  readonly storeErrors: Counter;
  readonly started: Counter;
  readonly ended: Counter;
  readonly duration: Histogram;
}

function createInstruments(meter: Meter): Instruments {
  return {
    loads: meter.createCounter('tsession.loads', {
      description: 'Session loads from the store, by outcome (found, missing, error)',
    }),
    commits: meter.createCounter('tsession.commits', {
      description: 'Session commits to the store, by outcome (ok, conflict, refused, error)',
    }),
    conflicts: meter.createCounter('tsession.conflicts', {
      description: 'Commits the store refused as conflicting, by reason',
    }),
    storeErrors: meter.createCounter('tsession.store.errors', {
      description: 'Store round trips that failed (store down, timed out, ...), by operation and error type',
    }),
    started: meter.createCounter('tsession.sessions.started', { description: 'Sessions created by a first commit' }),
    ended: meter.createCounter('tsession.sessions.ended', { description: 'Sessions ended, by reason' }),
    duration: meter.createHistogram('tsession.store.duration', {
      description: 'Duration of store round trips, by operation and outcome',
      unit: 's',
      advice: { explicitBucketBoundaries: LATENCY_BUCKETS },
    }),
  };
}

/**
 * Telemetry through the OpenTelemetry API, for `SessionDataContainerOptions.telemetry`:
 * counters `tsession.loads` and `tsession.commits` (by `tsession.outcome`), `tsession.conflicts`
 * (by `tsession.conflict.reason`), `tsession.store.errors` (by `tsession.operation` and
 * `error.type`), `tsession.sessions.started` and `tsession.sessions.ended` (by
 * `tsession.end.reason`); a histogram `tsession.store.duration` in seconds (by operation and
 * outcome); and a client span per store round trip (`tsession.load`, `tsession.commit`,
 * `tsession.destroy`, `tsession.sweep`), the parent of the driver's own spans. Every point
 * carries `tsession.store` (the store's class name). Share one across containers.
 *
 * `@opentelemetry/api` is an optional peer dependency that only this subpath imports.
 *
 * @example
 * ```ts
 * import { openTelemetry } from 'tsession/telemetry';
 * const container = new SessionDataContainer({ store, telemetry: openTelemetry() });
 * ```
 */
export function openTelemetry(options: OpenTelemetryOptions = {}): SessionTelemetry {
  const instruments = createInstruments((options.meterProvider ?? metrics.getMeterProvider()).getMeter(SCOPE));
  const tracer =
    options.traces === false ? undefined : (options.tracerProvider ?? trace.getTracerProvider()).getTracer(SCOPE);
  const attributes = { ...options.attributes };
  return {
    probe: (store: SessionStore) =>
      new OpenTelemetryProbe(instruments, tracer, { 'tsession.store': store.constructor.name, ...attributes }),
  };
}

/**
 * One container's reporter. Every attribute set a round trip can need is made here, once,
 * so a measured call allocates its span and its promise, not its attributes.
 */
class OpenTelemetryProbe implements TelemetryProbe {
  readonly #instruments: Instruments;
  readonly #tracer: Tracer | undefined;
  readonly #base: Attributes;
  /** By operation, then outcome: `tsession.operation` and `tsession.outcome` over the base. */
  readonly #points: Record<StoreOperation, Record<Outcome, Attributes>>;
  readonly #spans: Record<StoreOperation, SpanOptions>;
  readonly #ends: Record<SessionEndReason, Attributes>;
  readonly #conflicts: Record<(typeof CONFLICT_REASONS)[number], Attributes>;

  constructor(instruments: Instruments, tracer: Tracer | undefined, base: Attributes) {
    this.#instruments = instruments;
    this.#tracer = tracer;
    this.#base = base;
    const byOutcome = (operation: StoreOperation) =>
      table(OUTCOMES, (outcome) => ({ ...base, 'tsession.operation': operation, 'tsession.outcome': outcome }));
    this.#points = table(OPERATIONS, byOutcome);
    this.#spans = table(OPERATIONS, (operation) => ({
      kind: SpanKind.CLIENT,
      attributes: { ...base, 'tsession.operation': operation },
    }));
    this.#ends = table(END_REASONS, (reason) => ({ ...base, 'tsession.end.reason': reason }));
    this.#conflicts = table(CONFLICT_REASONS, (reason) => ({ ...base, 'tsession.conflict.reason': reason }));
  }

  async storeCall<T>(operation: StoreOperation, call: () => Promise<T>): Promise<T> {
    const span = this.#tracer?.startSpan(`tsession.${operation}`, this.#spans[operation]);
    const started = performance.now();
    try {
      // The span is current while the driver runs, so its own spans (pg, ioredis) nest under it.
      const result = await (span ? context.with(trace.setSpan(context.active(), span), call) : call());
      const outcome = operation !== 'load' ? 'ok' : result === undefined ? 'missing' : 'found';
      this.#count(operation, outcome, started);
      span?.end();
      return result;
    } catch (error) {
      this.#failed(operation, error, started, span);
      throw error;
    }
  }

  storeCallNow<T>(operation: StoreOperation, call: () => T): T {
    // Nothing runs under the span but the store's own code: no context to make current.
    const span = this.#tracer?.startSpan(`tsession.${operation}`, this.#spans[operation]);
    const started = performance.now();
    try {
      const result = call();
      this.#count(operation, operation !== 'load' ? 'ok' : result === undefined ? 'missing' : 'found', started);
      span?.end();
      return result;
    } catch (error) {
      this.#failed(operation, error, started, span);
      throw error;
    }
  }

  sessionStarted(): void {
    this.#instruments.started.add(1, this.#base);
  }

  sessionEnded(reason: SessionEndReason): void {
    this.#instruments.ended.add(1, this.#ends[reason]);
  }

  #count(operation: StoreOperation, outcome: Outcome, started: number): Attributes {
    const attributes = this.#points[operation][outcome];
    this.#instruments.duration.record((performance.now() - started) / 1000, attributes);
    if (operation === 'load') this.#instruments.loads.add(1, attributes);
    else if (operation === 'commit') this.#instruments.commits.add(1, attributes);
    return attributes;
  }

  #failed(operation: StoreOperation, error: unknown, started: number, span: Span | undefined): void {
    const outcome = outcomeOf(error);
    this.#count(operation, outcome, started);
    const type = errorType(error);
    if (error instanceof ConflictError) this.#instruments.conflicts.add(1, this.#conflicts[error.reason]);
    if (outcome === 'error') {
      this.#instruments.storeErrors.add(1, { ...this.#base, 'tsession.operation': operation, 'error.type': type });
      if (span && error instanceof Error) span.recordException(error);
    }
    if (span) {
      span.setAttribute('error.type', type);
      span.setStatus({ code: SpanStatusCode.ERROR, message: outcome });
      span.end();
    }
  }
}

/** A conflict and a cap the store enforced are answers, not failures of the store. */
function outcomeOf(error: unknown): Outcome {
  if (error instanceof ConflictError) return 'conflict';
  if (error instanceof SessionTooLargeError || error instanceof SessionLimitError) return 'refused';
  return 'error';
}

/** tsession's stable code for its own errors, else the error's class name. */
function errorType(error: unknown): string {
  if (isSessionError(error)) return error.code;
  return error instanceof Error ? error.name : typeof error;
}

function table<K extends string, V>(keys: readonly K[], make: (key: K) => V): Record<K, V> {
  return Object.fromEntries(keys.map((key) => [key, make(key)])) as Record<K, V>;
}
