/**
 * Hostile Cookie headers (issue 7): through the SessionManager directly for volume, and
 * a sample over real HTTP (raw sockets, so CR/LF really reaches the server) through
 * `tsession/http`. Never an exception, never a 500, never an id the test did not issue
 * accepted (not even one signed by another secret whose key is in the same store),
 * never a header value with CR/LF, never another session's data.
 */
import { createServer, type Server } from 'node:http';
import { type AddressInfo, createConnection } from 'node:net';
import { performance } from 'node:perf_hooks';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withSessions } from '../../src/adapters/http/index.js';
import { CookieClientIdManager, SessionDataContainer, SessionManager } from '../../src/index.js';
import { MemoryStore } from '../../src/stores/memory/index.js';
import { OTHER_SECRET, request, SECRET } from '../helpers.js';
import { cookieHeader, hasHeaderBreak, type IdPools } from './cookie-inputs.js';
import { bump, fuzzRuns, recordRow, tally } from './record.js';

const PKG = 'fuzz.owner';
const RUNS = fuzzRuns(5_000);
const store = new MemoryStore({ sweepIntervalSeconds: 0 });
const clientIds = new CookieClientIdManager({ secret: SECRET });
const manager = new SessionManager({ clientIds, container: new SessionDataContainer({ store }) });
const attacker = new SessionManager({
  clientIds: new CookieClientIdManager({ secret: OTHER_SECRET }),
  container: new SessionDataContainer({ store }),
});

/** Opens, stores `owner: <its id>`, commits; resolves the id. */
async function storedSession(by: SessionManager): Promise<string> {
  const session = by.open(request());
  (await session.get(PKG)).set('owner', session.clientId);
  await session.commit();
  return session.clientId;
}

const pools: { issued: string[]; foreign: string[] } = { issued: [], foreign: [] };
let issuedSet: ReadonlySet<string> = new Set();

beforeAll(async () => {
  for (let i = 0; i < 8; i++) pools.issued.push(await storedSession(manager));
  for (let i = 0; i < 8; i++) pools.foreign.push(await storedSession(attacker));
  issuedSet = new Set(pools.issued);
});
afterAll(async () => {
  await store.close();
});

/** What one request did; throws (failing the property) on anything the guarantees forbid. */
async function visit(cookie: string): Promise<'verified' | 'refused'> {
  const reading = clientIds.read(request({ cookie }));
  if (reading) expect(issuedSet.has(reading.id), `accepted ${JSON.stringify(reading.id)}`).toBe(true);
  const session = manager.open(request({ cookie }));
  const data = await session.get(PKG);
  if (reading) {
    // its own session, never another's
    expect(data.get('owner')).toBe(reading.id);
  } else {
    expect(data.size).toBe(0);
  }
  data.set('n', ((data.get('n') as number | undefined) ?? 0) + 1);
  await session.commit();
  for (const [, value] of session.responseHeaders) expect(hasHeaderBreak(value)).toBe(false);
  const setCookies = session.responseHeaders.filter(([name]) => name.toLowerCase() === 'set-cookie');
  if (reading) {
    expect(setCookies).toEqual([]);
  } else {
    // a fresh id, which verifies and is none of the attacker's
    expect(setCookies).toHaveLength(1);
    const id = /^tsession=([^;]*)/.exec(setCookies[0]?.[1] ?? '')?.[1];
    expect(clientIds.read(request({ cookie: `tsession=${id}` }))?.id).toBe(id);
    expect(pools.foreign).not.toContain(id);
  }
  return reading ? 'verified' : 'refused';
}

describe('fuzz: hostile Cookie headers', () => {
  it(`SessionManager: ${RUNS * 2} random headers never throw, never accept a forged id, never leak another session`, async () => {
    const outcomes = new Map<string, number>();
    const started = performance.now();
    await fc.assert(
      fc.asyncProperty(cookieHeader(pools as IdPools), async (cookie) => {
        bump(outcomes, await visit(cookie));
      }),
      { numRuns: RUNS * 2 },
    );
    expect(outcomes.get('verified') ?? 0).toBeGreaterThan(0); // the property saw valid ids, so it could fail
    expect(outcomes.get('refused') ?? 0).toBeGreaterThan(0);
    recordRow('fuzz-cookies', {
      test: 'Cookie headers, SessionManager',
      load: `${RUNS * 2} random headers (fast-check)`,
      faults: 'none',
      inputs:
        'up to 12 pairs, same-name repeats, truncated/oversized (8 kB)/wrong-tag/one-char/other-secret ids, unicode, CR/LF/;/= injections, %-escapes',
      lostWrites: null,
      errors: 'none',
      recoveryMs: null,
      notes: `outcomes: ${tally(outcomes)}; 0 forged ids accepted`,
      durationMs: Math.round(performance.now() - started),
    });
  });

  it('many cookies of the same name: the issued id is found among the first four, a forged one never is', async () => {
    const started = performance.now();
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom(...pools.foreign, 'x', ''), { maxLength: 10 }),
        fc.nat(3),
        fc.constantFrom(...pools.issued),
        async (forged, at, valid) => {
          const values = [...forged.slice(0, 3)];
          values.splice(Math.min(at, values.length), 0, valid);
          const cookie = [...values, ...forged.slice(3)].map((v) => `tsession=${v}`).join('; ');
          expect(clientIds.read(request({ cookie }))?.id).toBe(valid);
          expect(await visit(cookie)).toBe('verified');
          const onlyForged = forged.map((v) => `tsession=${v}`).join('; ');
          expect(clientIds.read(request({ cookie: onlyForged }))).toBeUndefined();
        },
      ),
      { numRuns: Math.ceil(RUNS / 5) },
    );
    recordRow('fuzz-cookies', {
      test: 'Same-name cookies',
      load: `${Math.ceil(RUNS / 5)} headers (fast-check)`,
      faults: 'none',
      inputs: 'up to 11 `tsession` cookies: other-secret ids, empty and junk values around one issued id',
      lostWrites: null,
      errors: 'none',
      recoveryMs: null,
      notes: 'issued id found in any of the first 4 positions; forged ids never accepted',
      durationMs: Math.round(performance.now() - started),
    });
  });
});

describe('fuzz: hostile Cookie headers over real HTTP (tsession/http, raw sockets)', () => {
  let server: Server;
  let port = 0;
  const unexpected: unknown[] = [];

  beforeAll(async () => {
    server = createServer(
      withSessions(
        manager,
        async (req, res) => {
          const verified = req.session.idSource === undefined ? null : req.session.clientId;
          const data = await req.session.get(PKG);
          const owner = data.get('owner') ?? null;
          data.set('n', ((data.get('n') as number | undefined) ?? 0) + 1);
          res.setHeader('content-type', 'application/json');
          res.end(JSON.stringify({ verified, owner }));
        },
        { onError: (error) => unexpected.push(error) },
      ),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  /** Sends `GET /` with the raw header text, as bytes; resolves every response in what came back. */
  const send = (cookie: string) =>
    new Promise<string>((resolve, reject) => {
      const socket = createConnection({ port, host: '127.0.0.1' });
      const chunks: Buffer[] = [];
      socket.setTimeout(10_000, () => socket.destroy(new Error('no answer within 10 s')));
      socket.on('data', (chunk) => chunks.push(chunk));
      socket.on('error', reject);
      socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
      socket.end(`GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: ${cookie}\r\nConnection: close\r\n\r\n`);
    });

  it(`${Math.ceil(RUNS / 5)} raw requests: never a 500, never a forged id, never a broken Set-Cookie`, async () => {
    const statuses = new Map<string, number>();
    const started = performance.now();
    await fc.assert(
      fc.asyncProperty(cookieHeader(pools as IdPools), async (cookie) => {
        const raw = await send(cookie);
        const heads = raw.split(/(?=HTTP\/1\.1 \d{3} )/).filter((part) => part.startsWith('HTTP/1.1 '));
        expect(heads.length).toBeGreaterThan(0);
        for (const part of heads) {
          const status = Number(part.slice(9, 12));
          bump(statuses, String(status));
          expect(status).not.toBe(500);
          const [head = '', body = ''] = part.split('\r\n\r\n');
          for (const line of head.split('\r\n').slice(1)) {
            if (/^set-cookie:/i.test(line))
              expect(line).toMatch(/^set-cookie: tsession=[A-Za-z0-9_-]{24}\.[A-Za-z0-9_-]{43};/i);
          }
          if (status === 200) {
            const { verified, owner } = JSON.parse(body) as { verified: string | null; owner: string | null };
            if (verified !== null) {
              expect(issuedSet.has(verified), `accepted ${verified}`).toBe(true);
              expect(owner).toBe(verified);
            } else expect(owner).toBeNull();
          }
        }
      }),
      { numRuns: Math.ceil(RUNS / 5) },
    );
    expect(unexpected).toEqual([]);
    expect(statuses.get('200') ?? 0).toBeGreaterThan(0);
    recordRow('fuzz-cookies', {
      test: 'Cookie headers over HTTP (tsession/http)',
      load: `${Math.ceil(RUNS / 5)} raw-socket requests (fast-check)`,
      faults: 'none',
      inputs: 'the same headers sent as raw bytes: CR/LF really splits header lines, NUL, non-ASCII bytes',
      lostWrites: null,
      errors: tally(new Map([...statuses].filter(([s]) => s !== '200').map(([s, n]) => [`HTTP ${s}`, n]))),
      recoveryMs: null,
      notes: `statuses: ${tally(statuses)} (400s come from Node's HTTP parser refusing the header); 0 x 500; 0 forged ids accepted`,
      durationMs: Math.round(performance.now() - started),
    });
  });
});
