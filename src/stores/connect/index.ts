/**
 * `tsession/connect`: tsession over any express-session store, and any tsession store
 * as an express-session store.
 *
 * @module
 */
export type { SessionBlob } from './blob.js';
export type { ConnectCompatibleStore, StoreCallback } from './callbacks.js';
export { ConnectStore, type ConnectStoreOptions } from './connect-store.js';
export {
  EXPRESS_SESSION_ENTRY,
  type ExpressSessionData,
  type ExpressSessionStoreMethods,
  type ExpressSessionStoreOptions,
  toExpressSessionStore,
} from './express-store.js';
