import { SqliteStore } from 'tsession/sqlite';
import { describeExample } from '../shared/suite.js';
import { start } from './server.js';

describeExample('hono', start, () => new SqliteStore({ path: ':memory:' }));
