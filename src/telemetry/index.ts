/**
 * `tsession/telemetry`: metrics and traces through the OpenTelemetry API (`@opentelemetry/api`,
 * an optional peer dependency that only this subpath imports).
 *
 * @module
 */

export type { SessionTelemetry, StoreOperation, TelemetryProbe } from '../container/telemetry.js';
export { type OpenTelemetryOptions, openTelemetry, SCOPE } from './open-telemetry.js';
