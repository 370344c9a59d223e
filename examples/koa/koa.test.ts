import { MemoryStore } from 'tsession/memory';
import { describeExample } from '../shared/suite.js';
import { start } from './server.js';

describeExample('koa', start, () => new MemoryStore());
