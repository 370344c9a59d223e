import type { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { ConflictError, SessionConfigError } from '../../errors.js';
import { type Clock, systemClock } from '../../time.js';
import type { SessionStore } from '../types.js';

/** The package id and key under which the whole express-session `sess` object is kept. */
export const EXPRESS_SESSION_ENTRY = { pkg: 'express-session', key: 'sess' } as const;

/** An express-session session as its stores see it: a JSON-able object with a `cookie`. */
export interface ExpressSessionData {
  cookie: { expires?: Date | string | null; maxAge?: number | null; originalMaxAge?: number | null };
  [key: string]: unknown;
}

type Done<T = void> = (error?: unknown, result?: T) => void;

/** The methods the returned store implements (express-session's required, recommended and optional ones). */
export interface ExpressSessionStoreMethods {
  get(sid: string, callback: Done<ExpressSessionData | null>): void;
  set(sid: string, session: ExpressSessionData, callback?: Done): void;
  destroy(sid: string, callback?: Done): void;
  touch(sid: string, session: ExpressSessionData, callback?: Done): void;
  all(callback: Done<Record<string, ExpressSessionData>>): void;
  length(callback: Done<number>): void;
  clear(callback?: Done): void;
}

/** An abstract or concrete class to extend, like express-session's `Store`. */
export type StoreBaseClass = abstract new () => object;

/** Options of {@link toExpressSessionStore}. */
export interface ExpressSessionStoreOptions<S extends StoreBaseClass = StoreBaseClass> {
  /** express-session's `Store` class (`import { Store } from 'express-session'`). @default required lazily from 'express-session' */
  Store?: S;
  /** Seconds a session lives when its cookie has neither `expires` nor `maxAge` (a browser-session cookie). @default 86400 */
  defaultTtlSeconds?: number;
  /** @default the system clock */
  clock?: Clock;
}

/**
 * Exposes a tsession store (SQLite, Redis, PostgreSQL, memory) as an express-session
 * `Store`, so an express-session app can move to tsession's stores first and to
 * tsession's sessions later. Each express-session session is ONE entry (package
 * `express-session`, key `sess`) of the record keyed by its sid, living until its
 * `cookie.expires` (or `maxAge`), else `defaultTtlSeconds`. Writes are last-write-wins,
 * as express-session expects; an expiry is never shortened by a racing touch.
 *
 * @example
 * ```ts
 * import session, { Store } from 'express-session';
 * import { RedisStore } from 'tsession/redis';
 * app.use(session({ secret, store: toExpressSessionStore(new RedisStore({ url }), { Store }), resave: false, saveUninitialized: false }));
 * ```
 */
export function toExpressSessionStore<S extends StoreBaseClass>(
  store: SessionStore,
  options: ExpressSessionStoreOptions<S> & { Store: S },
): InstanceType<S> & ExpressSessionStoreMethods;
export function toExpressSessionStore(
  store: SessionStore,
  options?: ExpressSessionStoreOptions,
): EventEmitter & ExpressSessionStoreMethods;
export function toExpressSessionStore(store: SessionStore, options: ExpressSessionStoreOptions = {}): object {
  const { defaultTtlSeconds = 86_400, clock = systemClock } = options;
  if (typeof store?.load !== 'function' || typeof store.commit !== 'function') {
    throw new SessionConfigError(
      'toExpressSessionStore: `store` must be a tsession SessionStore, e.g. new MemoryStore()',
    );
  }
  if (!(defaultTtlSeconds > 0)) throw new SessionConfigError('toExpressSessionStore: `defaultTtlSeconds` must be > 0');
  const Base = (options.Store ?? requireStoreClass()) as unknown as new () => object;
  const { pkg, key } = EXPRESS_SESSION_ENTRY;

  const read = async (sid: string, now: number): Promise<ExpressSessionData | null> => {
    const entry = (await store.load(sid, now))?.entries.find((e) => e.pkg === pkg && e.key === key);
    return entry ? (JSON.parse(entry.value) as ExpressSessionData) : null;
  };
  const ttlOf = (session: ExpressSessionData): number => {
    const { expires, maxAge, originalMaxAge } = session.cookie ?? {};
    if (expires != null) return (new Date(expires).getTime() - Date.now()) / 1000;
    const ms = maxAge ?? originalMaxAge;
    return typeof ms === 'number' ? ms / 1000 : defaultTtlSeconds;
  };
  const liveKeys = async (now: number): Promise<string[]> => {
    const keys: string[] = [];
    for await (const record of store.scan(now)) {
      if (record.entries.some((e) => e.pkg === pkg && e.key === key)) keys.push(record.key);
    }
    return keys;
  };

  class TsessionExpressStore extends Base implements ExpressSessionStoreMethods {
    get(sid: string, callback: Done<ExpressSessionData | null>): void {
      settle(read(sid, clock()), callback);
    }

    set(sid: string, session: ExpressSessionData, callback?: Done): void {
      const now = clock();
      const ttl = ttlOf(session);
      if (ttl > 0) {
        const value = JSON.stringify(session);
        settle(upsert(store, sid, now, { lastAccess: now, expiresAt: now + ttl }, value), callback);
      } else {
        this.destroy(sid, callback);
      }
    }

    destroy(sid: string, callback?: Done): void {
      settle(
        store.destroy(sid).then(() => undefined),
        callback,
      );
    }

    touch(sid: string, session: ExpressSessionData, callback?: Done): void {
      const now = clock();
      const touch = { lastAccess: now, expiresAt: now + Math.max(ttlOf(session), 0) };
      const touched = store.commit(sid, { create: false, touch, writes: [] }, now).then(
        () => undefined,
        (error: unknown) => {
          if (!(error instanceof ConflictError && error.reason === 'gone')) throw error;
        },
      );
      settle(touched, callback);
    }

    all(callback: Done<Record<string, ExpressSessionData>>): void {
      const now = clock();
      const listed = (async () => {
        const sessions: Record<string, ExpressSessionData> = {};
        for (const sid of await liveKeys(now)) {
          const session = await read(sid, now);
          if (session) sessions[sid] = session;
        }
        return sessions;
      })();
      settle(listed, callback);
    }

    length(callback: Done<number>): void {
      settle(
        liveKeys(clock()).then((keys) => keys.length),
        callback,
      );
    }

    clear(callback?: Done): void {
      const cleared = liveKeys(clock()).then(async (keys) => {
        for (const sid of keys) await store.destroy(sid);
      });
      settle(cleared, callback);
    }
  }
  return new TsessionExpressStore();
}

/** Writes the sess entry blindly, creating the record when it is not live; retries a lost create/exists race. */
async function upsert(
  store: SessionStore,
  sid: string,
  now: number,
  touch: { lastAccess: number; expiresAt: number },
  value: string,
): Promise<void> {
  const writes = [{ ...EXPRESS_SESSION_ENTRY, value }];
  for (let attempt = 0; ; attempt++) {
    const live = await store.load(sid, now);
    try {
      await store.commit(
        sid,
        live === undefined ? { create: true, touch, writes } : { create: false, touch, writes },
        now,
      );
      return;
    } catch (error) {
      const raced = error instanceof ConflictError && (error.reason === 'exists' || error.reason === 'gone');
      if (!raced || attempt >= 2) throw error;
    }
  }
}

function settle<T>(promise: Promise<T>, callback: Done<T> | undefined): void {
  promise.then(
    (result) => callback?.(null, result),
    (error: unknown) => callback?.(error),
  );
}

function requireStoreClass(): StoreBaseClass {
  try {
    const { Store } = createRequire(import.meta.url)('express-session') as { Store: StoreBaseClass };
    return Store;
  } catch (cause) {
    throw new SessionConfigError(
      `toExpressSessionStore: cannot load express-session (${String(cause)}); install it or pass { Store } from 'express-session'`,
    );
  }
}
