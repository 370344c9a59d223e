import pg from 'pg';
import { describe } from 'vitest';
import { PostgresStore } from '../../src/stores/postgres/index.js';
import { POSTGRES_URL, serviceAvailable, uniquePrefix } from '../support/services.js';
import { twoProcessCases } from './cases.js';

const available = await serviceAvailable('postgres');

describe.skipIf(!available)('two app processes over one PostgreSQL (PostgresStore)', () => {
  twoProcessCases(async () => {
    const schema = uniquePrefix('dist');
    const store = new PostgresStore({ connectionString: POSTGRES_URL, schema });
    await store.migrate();
    await store.close();
    return {
      env: { TSESSION_DIST_STORE: 'postgres', TSESSION_DIST_URL: POSTGRES_URL, TSESSION_DIST_NAMESPACE: schema },
      async cleanup() {
        const client = new pg.Client({ connectionString: POSTGRES_URL });
        await client.connect();
        await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await client.end();
      },
    };
  });
});
