import {
  CookieClientIdManager,
  type CookieClientIdOptions,
  SessionDataContainer,
  type SessionDataContainerOptions,
  SessionManager,
  type SessionRequest,
} from '../src/index.js';
import { MemoryStore } from '../src/stores/memory/index.js';

export const SECRET = 'test-secret-0123456789-abcdefghijklmnop';

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

/** A request as an adapter would build it. */
export function request(
  init: { method?: string; url?: string; cookie?: string; secure?: boolean; headers?: Record<string, string> } = {},
): SessionRequest {
  const headers: Record<string, string> = { ...(init.headers ?? {}) };
  if (init.cookie !== undefined) headers.cookie = init.cookie;
  return {
    method: init.method ?? 'GET',
    url: init.url ?? '/',
    secure: init.secure ?? false,
    header: (name) => headers[name],
  };
}

/** The cookie pair (`name=value`) a response's Set-Cookie hands out, or undefined. */
export function cookieFrom(headers: readonly (readonly [string, string])[]): string | undefined {
  const setCookie = headers.find(([n]) => n.toLowerCase() === 'set-cookie');
  return setCookie?.[1].split(';')[0];
}

export function memoryManager(
  options: {
    cookie?: Partial<CookieClientIdOptions>;
    container?: Partial<SessionDataContainerOptions>;
    clock?: () => number;
  } = {},
) {
  const clock = options.clock ?? manualClock();
  const store = new MemoryStore({ sweepIntervalSeconds: 0 });
  const container = new SessionDataContainer({ store, clock, ...options.container });
  const clientIds = new CookieClientIdManager({ secret: SECRET, clock, ...options.cookie });
  return { manager: new SessionManager({ clientIds, container }), store, container, clock, clientIds };
}
