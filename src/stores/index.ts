/**
 * `tsession/store`: what a store author needs in one place. The {@link SessionStore}
 * interface and the shapes it reads and writes, the commit rules every built-in store
 * applies (`record.ts`: liveness, preconditions, entry writes, the size caps), and the
 * contract suite a store must pass (also available alone as `tsession/conformance`).
 *
 * @module
 */
export * from '../conformance/index.js';
export * from './record.js';
export type * from './types.js';
