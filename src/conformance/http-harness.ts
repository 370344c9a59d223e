/**
 * What the contract's cases over real HTTP share: a server on an ephemeral loopback port,
 * requests sent as a browser with a cookie jar of one, and the request a cookie stands for.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SessionRequest } from '../client-id/types.js';

/** The user agent the cases' requests send (a fingerprint-bound session is bound to its class). */
export const CHROME =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36';

/** The secret the cases' id managers sign with. */
export const SECRET = 'conformance-secret-0123456789-abcdefghij';

/** One answer: status, body and the cookie it set (name=value), if any. */
export interface Answer {
  readonly status: number;
  readonly body: string;
  readonly cookie?: string;
}

/** A listening server: requests to it, and its close. */
export interface LocalServer {
  get(path: string, cookie?: string, agent?: string): Promise<Answer>;
  /** Drops every connection and closes the server. */
  close(): Promise<void>;
}

/** Listens `server` on an ephemeral loopback port. */
export async function listenLocal(server: Server): Promise<LocalServer> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    async get(path, cookie, agent = CHROME) {
      const headers: Record<string, string> = { 'user-agent': agent };
      if (cookie !== undefined) headers.cookie = cookie;
      const response = await fetch(`http://127.0.0.1:${port}${path}`, { headers });
      const setCookie = response.headers.get('set-cookie')?.split(';')[0];
      const body = await response.text();
      return { status: response.status, body, ...(setCookie && { cookie: setCookie }) };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A request carrying `cookie`, as the id manager reads one. */
export function cookieRequest(cookie: string): SessionRequest {
  return { method: 'GET', url: '/', secure: false, header: (n) => (n === 'cookie' ? cookie : undefined) };
}

/** Opens an app, runs `run` on it, and closes it however `run` ends. */
export async function withApp<A extends { close(): Promise<void> }>(
  open: () => Promise<A>,
  run: (app: A) => Promise<void>,
): Promise<void> {
  const app = await open();
  try {
    await run(app);
  } finally {
    await app.close();
  }
}
