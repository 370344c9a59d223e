import { afterEach, beforeEach, describe, it } from 'vitest';
import { describeStoreContract } from '../../src/conformance/index.js';
import { MemoryStore } from '../../src/stores/memory/index.js';

describeStoreContract('MemoryStore', async () => ({ store: new MemoryStore({ sweepIntervalSeconds: 0 }) }), {
  describe,
  it,
  beforeEach,
  afterEach,
});
