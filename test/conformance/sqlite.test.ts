import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, it } from 'vitest';
import { describeStoreContract } from '../../src/conformance/index.js';
import { SqliteStore } from '../../src/stores/sqlite/index.js';

const dir = mkdtempSync(join(tmpdir(), 'tsession-sqlite-contract-'));
let n = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeStoreContract(
  'SqliteStore',
  async () => {
    const path = join(dir, `contract-${n++}.db`);
    return {
      store: new SqliteStore({ path }),
      cleanup: async () => {
        for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true });
      },
    };
  },
  { describe, it, beforeEach, afterEach },
);
