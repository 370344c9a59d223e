/**
 * An app whose every write is a ledger line: `GET /put?n=<n>` writes the key `w<n>` of
 * the package `faults.ledger` (a blind-free read-modify-write: it loads first), and
 * `GET /keys` answers every key the session holds. A client keeps its cookie and the
 * keys the app acknowledged (200), so a test can count acknowledged writes the store
 * lost: acknowledged keys missing from the final `/keys`. Unlike a counter, a lost write
 * cannot be hidden by later ones.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { withSessions } from '../../src/adapters/http/index.js';
import {
  CookieClientIdManager,
  isSessionError,
  SessionDataContainer,
  SessionManager,
  type SessionStore,
} from '../../src/index.js';
import { SECRET } from '../helpers.js';

const PKG = 'faults.ledger';

export interface LedgerApp {
  readonly url: string;
  /** Errors the adapter answered with a status other than 503 (should stay empty). */
  readonly unexpected: unknown[];
  close(): Promise<void>;
}

export async function startLedgerApp(store: SessionStore): Promise<LedgerApp> {
  const container = new SessionDataContainer({ store });
  const manager = new SessionManager({ clientIds: new CookieClientIdManager({ secret: SECRET }), container });
  const unexpected: unknown[] = [];
  const onError = (error: unknown) => {
    if (!(isSessionError(error) && error.status === 503)) unexpected.push(error);
  };
  const server: Server = createServer(
    withSessions(
      manager,
      async (req, res) => {
        const url = new URL(req.url ?? '/', 'http://app');
        const data = await req.session.get(PKG);
        res.setHeader('content-type', 'application/json');
        if (url.pathname === '/put') {
          const n = Number(url.searchParams.get('n'));
          data.set(`w${n}`, n);
          return res.end(JSON.stringify({ n }));
        }
        res.end(JSON.stringify([...data.keys()]));
      },
      { onError },
    ),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    unexpected,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** One answered request: its status, wall time, and when it was sent (performance.now()). */
export interface LedgerAnswer {
  readonly status: number;
  readonly ms: number;
  readonly sentAt: number;
}

/** A client with one cookie that remembers the writes the app acknowledged. */
export function ledgerClient(baseUrl: string) {
  let cookie: string | undefined;
  let next = 0;
  const client = {
    /** Keys of every `/put` answered 200. */
    acknowledged: new Set<string>(),
    answers: [] as LedgerAnswer[],
    async get(path: string): Promise<{ status: number; body: string; answer: LedgerAnswer }> {
      const sentAt = performance.now();
      const res = await fetch(baseUrl + path, {
        headers: cookie ? { cookie } : {},
        signal: AbortSignal.timeout(60_000),
      });
      const setCookie = res.headers.getSetCookie()[0];
      if (setCookie && res.status === 200) cookie = setCookie.split(';')[0];
      const body = await res.text();
      return { status: res.status, body, answer: { status: res.status, ms: performance.now() - sentAt, sentAt } };
    },
    /** Writes the next ledger key; resolves the answer. */
    async put(): Promise<LedgerAnswer> {
      const n = next++;
      const { status, answer } = await client.get(`/put?n=${n}`);
      if (status === 200) client.acknowledged.add(`w${n}`);
      client.answers.push(answer);
      return answer;
    },
    /** The keys the session holds now. */
    async keys(): Promise<string[]> {
      const { status, body } = await client.get('/keys');
      if (status !== 200) throw new Error(`/keys answered ${status}`);
      return JSON.parse(body) as string[];
    },
    /** Acknowledged writes the session no longer holds. */
    async lost(): Promise<number> {
      const held = new Set(await client.keys());
      return [...client.acknowledged].filter((key) => !held.has(key)).length;
    },
  };
  return client;
}

export type LedgerClient = ReturnType<typeof ledgerClient>;
