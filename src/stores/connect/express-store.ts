import type { EventEmitter } from 'node:events';
import { ConflictError, SessionConfigError } from '../../errors.js';
import { optionalPeer } from '../../optional-peer.js';
import { type Clock, systemClock } from '../../time.js';
import type { SessionStore } from '../types.js';

/** The package id and key under which the whole express-session `sess` object is kept. */
export const EXPRESS_SESSION_ENTRY = { pkg: 'express-session', key: 'sess' } as const;

/**
 * The entry that holds the cookie of the session's last `touch`, which overrides the one
 * inside `sess` until the next `set` deletes it: so a touch is one blind write, not a
 * read of the whole session and a write of it back.
 */
const TOUCHED_COOKIE_ENTRY = { pkg: EXPRESS_SESSION_ENTRY.pkg, key: 'cookie' } as const;

/** An express-session session as its stores see it: a JSON-able object with a `cookie`. */
export interface ExpressSessionData {
  cookie: { expires?: Date | string | null; maxAge?: number | null; originalMaxAge?: number | null };
  [key: string]: unknown;
}

/** The node-style callback express-session passes to a store method. */
export type Done<T = void> = (error?: unknown, result?: T) => void;

/**
 * The methods the returned store implements (express-session's required, recommended and
 * optional ones). Each takes express-session's node-style callback, as express-session
 * calls it, and returns nothing then; called without one it returns a promise instead
 * (`await store.get(sid)`, as with connect-redis 9). A callback is called on a later
 * tick, outside any promise, so an exception it throws propagates as an uncaught
 * exception, as with express-session's own `MemoryStore`, never as an unhandled rejection.
 */
export interface ExpressSessionStoreMethods {
  get(sid: string): Promise<ExpressSessionData | null>;
  get(sid: string, callback: Done<ExpressSessionData | null>): void;
  set(sid: string, session: ExpressSessionData): Promise<void>;
  set(sid: string, session: ExpressSessionData, callback: Done): void;
  destroy(sid: string): Promise<void>;
  destroy(sid: string, callback: Done): void;
  /** Stores the session's new `cookie` (and so its new expiry) with the data already stored; a missing session stays missing. */
  touch(sid: string, session: ExpressSessionData): Promise<void>;
  touch(sid: string, session: ExpressSessionData, callback: Done): void;
  all(): Promise<Record<string, ExpressSessionData>>;
  all(callback: Done<Record<string, ExpressSessionData>>): void;
  length(): Promise<number>;
  length(callback: Done<number>): void;
  clear(): Promise<void>;
  clear(callback: Done): void;
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
 * `cookie.expires` (or `maxAge`), else `defaultTtlSeconds`. A `touch` stores the new
 * cookie in a second entry (key `cookie`) that `get` returns in place of the one in
 * `sess`, so it is one write and no read; the next `set` folds it back. Writes are
 * last-write-wins, as express-session expects; an expiry is never shortened by a racing touch.
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
    const entries = (await store.load(sid, now))?.entries ?? [];
    const sess = entries.find((e) => e.pkg === pkg && e.key === key);
    if (!sess) return null;
    const session = JSON.parse(sess.value) as ExpressSessionData;
    const touched = entries.find((e) => e.pkg === pkg && e.key === TOUCHED_COOKIE_ENTRY.key);
    if (touched) session.cookie = JSON.parse(touched.value) as ExpressSessionData['cookie'];
    return session;
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

  const methods = {
    get: (sid: string) => read(sid, clock()),
    set: (sid: string, session: ExpressSessionData) => {
      const now = clock();
      const ttl = ttlOf(session);
      if (!(ttl > 0)) return store.destroy(sid).then(() => undefined);
      return upsert(store, sid, now, { lastAccess: now, expiresAt: now + ttl }, JSON.stringify(session));
    },
    destroy: (sid: string) => store.destroy(sid).then(() => undefined),
    touch: (sid: string, session: ExpressSessionData) => {
      const now = clock();
      const touch = { lastAccess: now, expiresAt: now + Math.max(ttlOf(session), 0) };
      const writes = [{ ...TOUCHED_COOKIE_ENTRY, value: JSON.stringify(session.cookie ?? {}) }];
      return store.commit(sid, { create: false, touch, writes }, now).then(
        () => undefined,
        (error: unknown) => {
          // A touch never creates a session: one that is gone stays gone.
          if (!(error instanceof ConflictError && error.reason === 'gone')) throw error;
        },
      );
    },
    all: async () => {
      const now = clock();
      const sessions: Record<string, ExpressSessionData> = {};
      for (const sid of await liveKeys(now)) {
        const session = await read(sid, now);
        if (session) sessions[sid] = session;
      }
      return sessions;
    },
    length: async () => (await liveKeys(clock())).length,
    clear: async () => {
      for (const sid of await liveKeys(clock())) await store.destroy(sid);
    },
  };

  // Each method: the promise without a callback, the callback (on a later tick) with one.
  class TsessionExpressStore extends Base {}
  const proto = TsessionExpressStore.prototype as unknown as Record<string, unknown>;
  for (const [name, method] of Object.entries(methods) as [string, (...args: never[]) => Promise<unknown>][]) {
    const arity = method.length;
    proto[name] = function (this: unknown, ...args: unknown[]) {
      const callback = args.length > arity ? args[arity] : undefined;
      const promise = method(...(args.slice(0, arity) as never[]));
      return typeof callback === 'function' ? reply(promise, callback as Done<unknown>) : promise;
    };
  }
  return new TsessionExpressStore() as object;
}

/** Writes the sess entry blindly, creating the record when it is not live; retries a lost create/exists race. */
async function upsert(
  store: SessionStore,
  sid: string,
  now: number,
  touch: { lastAccess: number; expiresAt: number },
  value: string,
): Promise<void> {
  // The whole session, its cookie included: a cookie an earlier touch stored is superseded.
  const writes = [
    { ...EXPRESS_SESSION_ENTRY, value },
    { ...TOUCHED_COOKIE_ENTRY, value: undefined },
  ];
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

/**
 * Hands a result to a node-style callback on a later tick, outside the promise chain, so
 * that an exception the callback throws is an uncaught exception (as with express-session's
 * `MemoryStore`, which defers with `setImmediate`), not an unhandled rejection.
 */
function reply<T>(promise: Promise<T>, callback: Done<T>): undefined {
  promise.then(
    (result) => process.nextTick(callback, null, result),
    (error: unknown) => process.nextTick(callback, error),
  );
  return undefined;
}

/** express-session's `Store`, loaded when no `Store` option was given. @throws SessionConfigError when it is not installed */
function requireStoreClass(): StoreBaseClass {
  return optionalPeer<{ Store: StoreBaseClass }>('express-session', 'toExpressSessionStore (without a `Store` option)')
    .Store;
}
