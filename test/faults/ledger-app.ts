/**
 * An app whose every write is a ledger line: `GET /put?n=<n>` writes the key `w<n>` of
 * the package `faults.ledger` (a read-modify-write: it loads first), `GET /blind?n=<n>`
 * writes it blind (`session.set`, no load), and `GET /keys` answers every key the session holds. A client keeps its cookie and the
 * keys the app acknowledged (200), so a test can count acknowledged writes the store
 * lost: acknowledged keys missing from the final `/keys`. Unlike a counter, a lost write
 * cannot be hidden by later ones.
 *
 * A client starts a new session every `SESSION_WRITES` writes and keeps the old ones for
 * the final count: a load that runs as long as a failover lasts would otherwise grow one
 * session past `maxKeysPerPackage` (1,000), and every later write would fail with
 * `SessionTooLargeError` (a 500) while loading ever larger records.
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

/** Writes per session before a client starts a new one: well under the container's `maxKeysPerPackage`. */
const SESSION_WRITES = 400;
/** Unexpected errors kept as text: a summary, never the error (which holds its session). */
const UNEXPECTED_KEPT = 20;

export interface LedgerApp {
  readonly url: string;
  /** `name: message` of the first errors the adapter answered with a status other than 503 (should stay empty). */
  readonly unexpected: string[];
  close(): Promise<void>;
}

export async function startLedgerApp(store: SessionStore): Promise<LedgerApp> {
  const container = new SessionDataContainer({ store });
  const manager = new SessionManager({ clientIds: new CookieClientIdManager({ secret: SECRET }), container });
  const unexpected: string[] = [];
  const onError = (error: unknown) => {
    if (isSessionError(error) && error.status === 503) return;
    if (unexpected.length < UNEXPECTED_KEPT)
      unexpected.push(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
  };
  const server: Server = createServer(
    withSessions(
      manager,
      async (req, res) => {
        const url = new URL(req.url ?? '/', 'http://app');
        res.setHeader('content-type', 'application/json');
        if (url.pathname === '/blind') {
          const n = Number(url.searchParams.get('n'));
          req.session.set(PKG, `w${n}`, n);
          return res.end(JSON.stringify({ n }));
        }
        const data = await req.session.get(PKG);
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

/** One session a client wrote to: its cookie and the writes the app acknowledged in it. */
interface LedgerSession {
  cookie: string | undefined;
  readonly acknowledged: Set<string>;
  writes: number;
}

/** A client that writes ledger keys, a new session every `SESSION_WRITES`, and remembers what the app acknowledged. */
export function ledgerClient(baseUrl: string) {
  const sessions: LedgerSession[] = [];
  let next = 0;
  const newSession = (): LedgerSession => {
    const session: LedgerSession = { cookie: undefined, acknowledged: new Set(), writes: 0 };
    sessions.push(session);
    return session;
  };
  let current = newSession();
  async function request(session: LedgerSession, path: string) {
    const sentAt = performance.now();
    const res = await fetch(baseUrl + path, {
      headers: session.cookie ? { cookie: session.cookie } : {},
      signal: AbortSignal.timeout(60_000),
    });
    const setCookie = res.headers.getSetCookie()[0];
    if (setCookie && res.status === 200) session.cookie = setCookie.split(';')[0];
    const body = await res.text();
    return { status: res.status, body, answer: { status: res.status, ms: performance.now() - sentAt, sentAt } };
  }
  /** The keys `session` holds now. */
  async function keys(session: LedgerSession): Promise<string[]> {
    if (session.cookie === undefined) return [];
    const { status, body } = await request(session, '/keys');
    if (status !== 200) throw new Error(`/keys answered ${status}`);
    return JSON.parse(body) as string[];
  }
  const client = {
    answers: [] as LedgerAnswer[],
    /** How many writes the app acknowledged, over every session of this client. */
    get acknowledged(): number {
      return sessions.reduce((sum, s) => sum + s.acknowledged.size, 0);
    },
    /** Writes the next ledger key, blind (no load) when `blind`; resolves the answer. */
    async put(blind = false): Promise<LedgerAnswer> {
      if (current.writes === SESSION_WRITES) current = newSession();
      const session = current;
      const n = next++;
      session.writes++;
      const { status, answer } = await request(session, `/${blind ? 'blind' : 'put'}?n=${n}`);
      if (status === 200) session.acknowledged.add(`w${n}`);
      client.answers.push(answer);
      return answer;
    },
    /** Acknowledged writes no session holds any more. */
    async lost(): Promise<number> {
      let lost = 0;
      for (const session of sessions) {
        const held = new Set(await keys(session));
        lost += [...session.acknowledged].filter((key) => !held.has(key)).length;
      }
      return lost;
    },
  };
  return client;
}

export type LedgerClient = ReturnType<typeof ledgerClient>;
