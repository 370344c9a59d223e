/**
 * The contract every {@link SessionStore} must pass, shipped so that third-party stores
 * can run it too. It imports no test framework: pass your framework's `describe`, `it`,
 * `beforeEach` and `afterEach` (vitest, node:test and mocha all fit), and it asserts
 * with `node:assert/strict`.
 *
 * @module
 */
import { strict as assert } from 'node:assert';
import type { SessionStore } from '../stores/types.js';
import { capCases } from './cap-cases.js';
import { deltaCases } from './delta-cases.js';
import type { ContractCapabilities, Harness, StoreFixture, TestApi } from './harness.js';
import { httpCases } from './http-cases.js';
import { limitCases } from './limit-cases.js';
import { hotKeyCases, principalCases } from './principal-cases.js';
import { recordCases } from './record-cases.js';
import { regenerateCases } from './regenerate-cases.js';
import { sessionCases } from './session-cases.js';
import { sweepCases } from './sweep-cases.js';
import { valueCases } from './value-cases.js';
import { versionCases } from './version-cases.js';

export type { ContractCapabilities, StoreFixture, TestApi } from './harness.js';

/** Options of {@link describeStoreContract}. */
export interface StoreContractOptions {
  /**
   * The capabilities the store declares. Cases that need one the store lacks are left
   * out, and a first case checks that `store.capabilities` says the same.
   * @default { limit: true, atomicRegenerate: true, perKeyVersions: true, listing: true, principals: true }
   */
  capabilities?: Partial<ContractCapabilities>;
}

/**
 * Registers the store contract suite: load, create, deltas with per-key versions and
 * their conflicts, versions that never repeat for a key (no ABA after a delete or clear), expiry, touch races, destroy, sweep, scan, count, limits,
 * regenerate (refused when the replaced record changed since it was loaded), concurrency, awkward keys and values, size caps
 * held against concurrent commits (UTF-8 bytes, packages, keys per package), `createdAt` on a create, whole-request
 * scenarios through `SessionManager`, and over real HTTP (the `tsession/http` adapter on a loopback port): the caps
 * under 20 parallel requests, and sessions bound to a client fingerprint that another client can neither read, write
 * nor end; sessions by user (listed, ended, and the index under regenerate, invalidate, clear, expiry, sweep and
 * import) and hot keys (200 concurrent increments, conflict resolvers), over HTTP too. `setup` runs before every case and must give an empty
 * store; after the case the store is closed and `cleanup` runs. Times are fixed, so
 * nothing depends on the wall clock. A few cases write thousands of records: give the
 * framework a per-test timeout of 10 s or more (mocha's default of 2 s is too short
 * for a networked store).
 *
 * @param name the suite's title, e.g. `'SqliteStore'`.
 * @param setup makes a fresh, empty store (own file, table, key prefix or schema) for one case.
 * @param t the test framework's functions.
 * @param options what the store can do, when it cannot do everything.
 *
 * @example
 * ```ts
 * import { afterEach, beforeEach, describe, it } from 'vitest';
 * import { describeStoreContract } from 'tsession/conformance';
 *
 * describeStoreContract('MyStore', async () => ({ store: new MyStore({ prefix: randomPrefix() }) }), {
 *   describe, it, beforeEach, afterEach,
 * });
 * ```
 */
export function describeStoreContract(
  name: string,
  setup: () => Promise<StoreFixture>,
  t: TestApi,
  options: StoreContractOptions = {},
): void {
  const caps: ContractCapabilities = {
    limit: true,
    atomicRegenerate: true,
    perKeyVersions: true,
    listing: true,
    principals: true,
    ...options.capabilities,
  };
  let fixture: StoreFixture | undefined;
  const harness: Harness = {
    t,
    caps,
    store(): SessionStore {
      assert.ok(fixture, 'the store contract: setup() did not run before this case');
      return fixture.store;
    },
  };

  t.describe(`${name} store contract`, () => {
    t.beforeEach(async () => {
      fixture = await setup();
    });
    t.afterEach(async () => {
      const done = fixture;
      fixture = undefined;
      if (!done) return;
      await done.store.close();
      await done.cleanup?.();
    });

    t.it('declares the capabilities the suite was told about', async () => {
      const declared = harness.store().capabilities;
      const { limit, atomicRegenerate, perKeyVersions, listing = true } = declared;
      const principals = declared.principals === true;
      assert.deepEqual({ limit, atomicRegenerate, perKeyVersions, listing, principals }, caps);
      if (caps.principals)
        assert.equal(
          typeof harness.store().findByPrincipal,
          'function',
          'a store that indexes principals implements findByPrincipal()',
        );
      if (caps.limit)
        assert.equal(typeof harness.store().count, 'function', 'a store with the limit capability implements count()');
      if (!caps.listing)
        assert.ok(declared.selfExpiring, 'a store that cannot list (so cannot be swept) must expire by itself');
    });

    recordCases(harness);
    deltaCases(harness);
    versionCases(harness);
    sweepCases(harness);
    limitCases(harness);
    regenerateCases(harness);
    valueCases(harness);
    sessionCases(harness);
    capCases(harness);
    httpCases(harness);
    principalCases(harness);
    hotKeyCases(harness);
  });
}
