/** The SessionManager every tsession server uses: cookie ids with one secret, default timeouts. */
import { CookieClientIdManager, SessionDataContainer, SessionManager, type SessionStore } from 'tsession';
import { MemoryStore } from 'tsession/memory';
import { countWrites } from './harness.js';

/** A manager over `store` (default a MemoryStore without a sweep timer) whose commits are counted as writes. */
export function benchManager(store: SessionStore = new MemoryStore({ sweepIntervalSeconds: 0 })): SessionManager {
  countWrites(store, 'commit');
  return new SessionManager({
    clientIds: new CookieClientIdManager({ secret: 'bench-secret-bench-secret-bench-secret-0123' }),
    container: new SessionDataContainer({ store }),
  });
}

/** The cookie signing secret the peers use. */
export const SECRET = 'bench-secret-bench-secret-bench-secret-0123';
