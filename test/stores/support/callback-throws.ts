/**
 * A child process for test/stores/connect-express-compat.test.ts: calls `get` of an
 * express-session store with a callback that throws, and prints which process event the
 * exception reached. `argv[2]` picks the store: `tsession` (toExpressSessionStore over
 * tsession's MemoryStore) or `express-session` (its own MemoryStore, the reference).
 */
import session from 'express-session';
import { toExpressSessionStore } from '../../../src/stores/connect/index.js';
import { MemoryStore } from '../../../src/stores/memory/index.js';

const report = (event: string) => (error: unknown) => {
  console.log(`${event}: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(0);
};
process.on('uncaughtException', report('uncaughtException'));
process.on('unhandledRejection', report('unhandledRejection'));

const store =
  process.argv[2] === 'tsession'
    ? toExpressSessionStore(new MemoryStore({ sweepIntervalSeconds: 0 }), { Store: session.Store })
    : new session.MemoryStore();
store.get('missing', () => {
  throw new Error('thrown by the callback');
});
