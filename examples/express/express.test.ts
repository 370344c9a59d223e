import { MemoryStore } from 'tsession/memory';
import { describeExample } from '../shared/suite.js';
import { start } from './server.js';

describeExample('express', start, () => new MemoryStore());
