import type { SessionStore } from '../stores/types.js';

/** A store round trip, as telemetry reports it. */
export type StoreOperation = 'load' | 'commit' | 'destroy' | 'sweep';

/** Why a session ended, as `onEnd` and telemetry report it. */
export type SessionEndReason = 'expired' | 'invalidated' | 'regenerated' | 'evicted';

/**
 * What a container reports to when given one (`SessionDataContainerOptions.telemetry`):
 * `openTelemetry()` from `tsession/telemetry` is one, and an app may write its own (for a
 * metrics library of its choice). A container without telemetry calls nothing and allocates
 * nothing for it.
 */
export interface SessionTelemetry {
  /** Called once by each container given this telemetry, when it is constructed. */
  probe(store: SessionStore): TelemetryProbe;
}

/** One container's reporter, from {@link SessionTelemetry.probe}. */
export interface TelemetryProbe {
  /**
   * Runs one store round trip, `call`, and resolves or rejects as it does: the place to
   * time it, count it by outcome and wrap it in a span.
   */
  storeCall<T>(operation: StoreOperation, call: () => Promise<T>): Promise<T>;
  /**
   * {@link storeCall} for a call that answers synchronously (a store's `loadNow`): returns or
   * throws as `call` does. Optional: without it, such a store is read through its promise.
   */
  storeCallNow?<T>(operation: StoreOperation, call: () => T): T;
  /** A session's first commit created it. */
  sessionStarted(): void;
  /** A session ended (expiry as the container's sweeps see it, as for `onEnd`). */
  sessionEnded(reason: SessionEndReason): void;
}
