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
  SessionDataContainer,
  type SessionDataContainerOptions,
  type SessionEndReason,
} from './container/container.js';
export * from './errors.js';
export { userAgentClass } from './session/fingerprint.js';
export { SessionManager, type SessionManagerOptions } from './session/manager.js';
export { PackageData } from './session/package-data.js';
export {
  type PackageShape,
  type RegenerateOptions,
  Session,
  type SessionContext,
  type SessionPackages,
} from './session/session.js';
export * from './stores/record.js';
export type * from './stores/types.js';
export { type Clock, systemClock } from './time.js';
export * from './transfer/index.js';
