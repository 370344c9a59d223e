import { Pool } from 'pg';
import { afterAll, beforeAll, describe } from 'vitest';
import { PostgresStore } from '../../src/stores/postgres/index.js';
import { POSTGRES_URL, serviceAvailable, uniquePrefix } from '../support/services.js';
import { importCases } from './import-cases.js';

const available = await serviceAvailable('postgres');

describe.skipIf(!available)('PostgresStore bulk import (importBatch: one transaction per batch)', () => {
  const schema = uniquePrefix('pgimport');
  let pool: Pool;
  let tables = 0;
  const stores: PostgresStore[] = [];
  beforeAll(() => {
    pool = new Pool({ connectionString: POSTGRES_URL, max: 4 });
  });
  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()));
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
  });
  importCases(async () => {
    const store = new PostgresStore({ pool, schema, table: `t${tables++}` });
    await store.migrate();
    stores.push(store);
    return store;
  });
});
