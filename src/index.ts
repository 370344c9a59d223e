/**
 * `tsession`: the core. Client ids, the session manager, sessions and their package data,
 * containers, the codec, the errors and the store interface. Stores, adapters, templates,
 * the admin page, the JSON Lines transfer tools and what store authors need each live
 * under their own subpath (`tsession/sqlite`, `tsession/express`, `tsession/transfer`,
 * `tsession/store`, ...), so an app loads only what it uses.
 *
 * @module
 */
export { CookieClientIdManager, type CookieClientIdOptions, type CookieConveyance } from './client-id/cookie.js';
export { HeaderClientIdManager, type HeaderClientIdOptions } from './client-id/header.js';
export type { VerifiedId } from './client-id/signing.js';
export {
  type ClientIdManager,
  type ClientIdReading,
  type ClientIdSource,
  cachePreventionHeaders,
  type HeaderEntry,
  type SessionRequest,
} from './client-id/types.js';
export { jsonCodec, MAX_DEPTH, type SessionCodec } from './codec/codec.js';
export {
  type ConflictResolver,
  SessionDataContainer,
  type SessionDataContainerOptions,
  type SessionEndReason,
} from './container/container.js';
export type { SessionTelemetry, StoreOperation, TelemetryProbe } from './container/telemetry.js';
export * from './errors.js';
export { userAgentClass } from './session/fingerprint.js';
export {
  type EndSessionsOptions,
  type PrincipalSession,
  SessionManager,
  type SessionManagerOptions,
} from './session/manager.js';
export { SessionNameError } from './session/names.js';
export { PackageData } from './session/package-data.js';
export {
  definePackage,
  type InferOutput,
  type InvalidPolicy,
  type InvalidStoredValue,
  PackageDefinition,
  type PackageDefinitionOptions,
  type PackageKeySchemas,
  type ShapeOfKeys,
  type StandardIssue,
  type StandardResult,
  type StandardSchema,
  type StandardSchemaProps,
} from './session/package-definition.js';
export {
  type PackageRef,
  type PackageShape,
  type RegenerateOptions,
  Session,
  type SessionPackages,
} from './session/session.js';
export type * from './stores/types.js';
export { type Clock, systemClock } from './time.js';
