/** The session manager every framework example builds, and the options of their `start()`. */
import { randomBytes } from 'node:crypto';
import { CookieClientIdManager, SessionDataContainer, SessionManager, type SessionStore } from 'tsession';

/** Options of each example's `start()`. */
export interface StartOptions {
  /** 0 picks a free port. @default $PORT, else 3000 */
  port?: number;
  /** Signs the cookies. @default $SESSION_SECRET, else random (cookies then die with the process) */
  secret?: string;
  /** Where sessions live. @default the example's own store */
  store?: SessionStore;
}

/** The port to listen on: the option, else $PORT, else 3000. */
export function portOf(options: StartOptions): number {
  return options.port ?? Number(process.env.PORT ?? 3000);
}

/** A manager with a cookie id manager and one container (a day's timeout, swept every 10 minutes). */
export function exampleManager(options: StartOptions, defaultStore: () => SessionStore): SessionManager {
  return new SessionManager({
    clientIds: new CookieClientIdManager({
      secret: options.secret ?? process.env.SESSION_SECRET ?? randomBytes(32).toString('base64url'),
    }),
    container: new SessionDataContainer({
      store: options.store ?? defaultStore(),
      timeout: 24 * 3600,
      sweepIntervalSeconds: 600,
    }),
  });
}
