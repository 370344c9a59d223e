import { createServer as createTcpServer } from 'node:net';
import {
  type ClientIdManager,
  CookieClientIdManager,
  type CookieClientIdOptions,
  type HeaderEntry,
  type Session,
  SessionDataContainer,
  type SessionDataContainerOptions,
  SessionManager,
  type SessionRequest,
  type SessionStore,
} from '../src/index.js';
import { MemoryStore } from '../src/stores/memory/index.js';

export const SECRET = 'test-secret-0123456789-abcdefghijklmnop';
export const OTHER_SECRET = 'other-secret-0123456789-abcdefghijklmn';

/** A clock tests move by hand, in seconds. */
export function manualClock(start = 1_000) {
  let now = start;
  const clock = () => now;
  clock.set = (t: number) => {
    now = t;
  };
  clock.advance = (dt: number) => {
    now += dt;
  };
  return clock;
}

export type ManualClock = ReturnType<typeof manualClock>;

/** A request as an adapter would build it. Header names are matched case-insensitively. */
export function request(
  init: {
    method?: string;
    url?: string;
    cookie?: string;
    secure?: boolean;
    headers?: Record<string, string>;
    form?: Record<string, string>;
  } = {},
): SessionRequest {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(init.headers ?? {})) headers[name.toLowerCase()] = value;
  if (init.cookie !== undefined) headers.cookie = init.cookie;
  const form = init.form;
  return {
    method: init.method ?? 'GET',
    url: init.url ?? '/',
    secure: init.secure ?? false,
    header: (name) => headers[name.toLowerCase()],
    ...(form && { formField: (name: string) => form[name] }),
  };
}

/** The cookie pair (`name=value`) a response's Set-Cookie hands out, or undefined. */
export function cookieFrom(headers: readonly (readonly [string, string])[]): string | undefined {
  const setCookie = headers.find(([n]) => n.toLowerCase() === 'set-cookie');
  return setCookie?.[1].split(';')[0];
}

/** Every value of the header `name` (case-insensitive) among `headers`. */
export function headerValues(headers: readonly HeaderEntry[], name: string): string[] {
  return headers.filter(([n]) => n.toLowerCase() === name.toLowerCase()).map(([, v]) => v);
}

/** The attributes of one Set-Cookie value, lower-cased names; flags map to `true`. */
export function cookieAttributes(setCookie: string): {
  name: string;
  value: string;
  attrs: Map<string, string | true>;
} {
  const [pair = '', ...rest] = setCookie.split(';').map((p) => p.trim());
  const eq = pair.indexOf('=');
  const attrs = new Map<string, string | true>();
  for (const part of rest) {
    const at = part.indexOf('=');
    if (at < 0) attrs.set(part.toLowerCase(), true);
    else attrs.set(part.slice(0, at).toLowerCase(), part.slice(at + 1));
  }
  return { name: pair.slice(0, eq), value: pair.slice(eq + 1), attrs };
}

/** Counts the calls a store receives, by wrapping the instance's methods (the store still does the work). */
export function countCalls<S extends SessionStore>(store: S) {
  const calls = { load: 0, commit: 0, destroy: 0 };
  // `loadNow` (a store that loads synchronously) is a load as well.
  const counted = { load: 'load', loadNow: 'load', commit: 'commit', destroy: 'destroy' } as const;
  for (const [method, counter] of Object.entries(counted) as [keyof typeof counted, keyof typeof calls][]) {
    const found = store[method] as ((...args: unknown[]) => unknown) | undefined;
    if (found === undefined) continue;
    const original = found.bind(store);
    (store as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
      calls[counter]++;
      return original(...args);
    };
  }
  return calls;
}

export function memoryManager<S extends SessionStore = MemoryStore>(
  options: {
    cookie?: Partial<CookieClientIdOptions>;
    container?: Partial<SessionDataContainerOptions>;
    clock?: () => number;
    clientIds?: ClientIdManager;
    store?: S;
    containers?: Record<string, SessionDataContainer>;
  } = {},
) {
  const clock = options.clock ?? manualClock();
  const store = options.store ?? (new MemoryStore({ sweepIntervalSeconds: 0 }) as SessionStore as S);
  const container = new SessionDataContainer({ store, clock, ...options.container });
  const clientIds = options.clientIds ?? new CookieClientIdManager({ secret: SECRET, clock, ...options.cookie });
  const manager = new SessionManager({
    clientIds,
    container,
    ...(options.containers && { containers: options.containers }),
  });
  return { manager, store, container, clock, clientIds };
}

/**
 * A browser for one manager: it sends back the cookie the last response set (and
 * forgets it when the response expired it), so tests read as a sequence of requests.
 */
export function browser(manager: SessionManager, cookieName = 'tsession') {
  let cookie: string | undefined;
  return {
    get cookie() {
      return cookie;
    },
    set cookie(value: string | undefined) {
      cookie = value;
    },
    /** Opens a session for a request carrying the current cookie. */
    open(init: Parameters<typeof request>[0] = {}): Session {
      return manager.open(request({ ...(cookie !== undefined && { cookie }), ...init }));
    },
    /** Runs `handler` in one request, commits, and keeps the cookie the response sets. */
    async visit<T>(
      handler: (session: Session) => T | Promise<T>,
      init: Parameters<typeof request>[0] = {},
    ): Promise<{ result: T; headers: readonly HeaderEntry[]; session: Session }> {
      const session = this.open(init);
      const result = await handler(session);
      await session.commit();
      this.receive(session.responseHeaders);
      return { result, headers: session.responseHeaders, session };
    },
    /** Applies a response's Set-Cookie headers to the browser's cookie. */
    receive(headers: readonly HeaderEntry[]) {
      for (const value of headerValues(headers, 'set-cookie')) {
        const { name, value: v, attrs } = cookieAttributes(value);
        if (name !== cookieName) continue;
        const expires = attrs.get('expires');
        const expired = typeof expires === 'string' && Date.parse(expires) <= 0;
        cookie = expired ? undefined : `${name}=${v}`;
      }
    },
  };
}

/** The store key (random part) of a signed id. */
export function keyOf(id: string): string {
  return id.split('.')[0] as string;
}

/** A loopback port nothing listens on: bound, then released, so a connection is refused at once. */
export async function deadPort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
