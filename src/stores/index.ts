/**
 * `tsession/store`: what a store author needs in one place. The {@link SessionStore}
 * interface and the shapes it reads and writes, the helpers that apply a commit's entry
 * writes the way every built-in store does, and the contract suite a store must pass
 * (also available alone as `tsession/conformance`).
 *
 * @module
 */
export * from '../conformance/index.js';
export { applyEntryWrites, entryId } from './apply-delta.js';
export type * from './types.js';
