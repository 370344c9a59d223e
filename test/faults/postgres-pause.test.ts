/**
 * Store faults through a real node:http app over PostgresStore, reached through a TCP
 * relay (tcp-relay.ts) to the real server: frozen (a server that accepts and never
 * answers, like a paused process or a stalled network), and cut under load (every
 * connection reset, like a crash and restart). test/stores/postgres-failure.test.ts
 * covers the store's own calls on a refused port, a silent port, a lock, and a cut
 * with no load; this file adds the HTTP answers, a stall, load, counters and memory.
 */
import { Pool } from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PostgresStore } from '../../src/stores/postgres/index.js';
import { recordRow } from '../reliability/record.js';
import { POSTGRES_URL, serviceAvailable, uniquePrefix } from '../support/services.js';
import {
  committedClients,
  type FaultApp,
  type FaultClient,
  heapAfterGc,
  outageUnderLoad,
  pool,
  startFaultApp,
  until,
} from './app.js';
import { startTcpRelay, type TcpRelay } from './tcp-relay.js';

const available = await serviceAvailable('postgres');
const STATEMENT_SECONDS = 1;
const CONNECT_SECONDS = 1;
/**
 * The longest one store call may take: a connection (CONNECT_SECONDS) or a query, which
 * the client cancels one second after the statement timeout; plus generous slack.
 */
const CALL_MS = Math.max(CONNECT_SECONDS, STATEMENT_SECONDS + 1) * 1000;
const BOUND_MS = CALL_MS + 2_000;
/** A request that loads, then commits, may spend the bound of a call twice. */
const TWO_CALLS_BOUND_MS = 2 * CALL_MS + 2_000;
const RECOVERY_LIMIT_MS = 20_000;

const report = (line: string) => console.log(`[faults] postgres: ${line}`);
/** A row of docs/reliability.md (.tmp/reliability/faults-postgres.json). */
const row = (test: string, fields: Omit<Parameters<typeof recordRow>[1], 'test' | 'inputs'>) =>
  recordRow('faults-postgres', { test: `PostgresStore ${test}`, inputs: 'none', ...fields });
const max = (values: readonly number[]) => Math.round(Math.max(0, ...values));
const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(1);

describe.skipIf(!available)('PostgresStore faults through node:http (TCP relay to the real server)', () => {
  const schema = uniquePrefix('pgfaults');
  const target = new URL(POSTGRES_URL);
  let admin: Pool;
  let relay: TcpRelay;
  let store: PostgresStore;
  let app: FaultApp;

  beforeAll(async () => {
    admin = new Pool({ connectionString: POSTGRES_URL, max: 1 });
    relay = await startTcpRelay({ host: target.hostname, port: Number(target.port || 5432) });
  });
  afterAll(async () => {
    await relay?.close();
    await admin?.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin?.end();
  });
  const open = async (table: string) => {
    const url = new URL(POSTGRES_URL);
    url.hostname = '127.0.0.1';
    url.port = String(relay.port);
    store = new PostgresStore({
      connectionString: url.href,
      schema,
      table,
      statementTimeoutSeconds: STATEMENT_SECONDS,
      connectTimeoutSeconds: CONNECT_SECONDS,
    });
    await store.migrate();
    app = await startFaultApp(store);
  };
  afterEach(async () => {
    await relay.restore();
    await app?.close();
    await store?.close();
    expect(app.unexpected).toEqual([]);
  });

  it('answers 503 within the bound while the server is frozen, recovers when it thaws, and keeps every committed session', async () => {
    await open('frozen');
    const clients = await committedClients(app, 10);
    const [held, ...others] = clients as [FaultClient, ...FaultClient[]];
    const gate = app.gate();
    const inFlight = held.inc('?gate=1');
    await gate.reached;
    relay.freeze();
    gate.release();
    const before = await heapAfterGc();
    const frozen = await pool(
      Array.from({ length: 300 }, (_, i) => others[i % others.length] as FaultClient),
      30,
      (client) => (client.attempted % 2 === 0 ? client.inc() : client.read()),
    );
    const after = await heapAfterGc();
    const caught = await inFlight;
    expect(caught.status).toBe(503);
    expect(frozen.map((a) => a.status)).toEqual(frozen.map(() => 503));
    const latencies = frozen.map((a) => a.ms);
    for (const ms of latencies) expect(ms).toBeLessThan(BOUND_MS);
    expect(caught.ms).toBeLessThan(TWO_CALLS_BOUND_MS);
    expect(after - before).toBeLessThan(20 * 2 ** 20);

    relay.thaw();
    const recovery = await until(async () => (await others[0]!.read()).status === 200, RECOVERY_LIMIT_MS);
    for (const client of clients) {
      const answer = await client.read();
      expect(answer.status).toBe(200);
      expect(answer.n).toBeGreaterThanOrEqual(client.acknowledged);
      expect(answer.n).toBeLessThanOrEqual(client.attempted);
      expect(answer.n).toBe(client.acknowledged + client.appliedButFailed);
    }
    // The frozen requests never reached the server with their commits (their loads failed first).
    for (const client of others) expect(client.appliedButFailed).toBe(0);
    report(
      `frozen: ${frozen.length} requests at 30 concurrent, all 503, max latency ${max(latencies)} ms (bound ${BOUND_MS}); ` +
        `the request caught between read and commit: 503 after ${Math.round(caught.ms)} ms, increment ` +
        `${held.appliedButFailed === 1 ? 'applied although answered 503' : 'not applied'}; ` +
        `heap ${after < before ? '' : '+'}${mb(after - before)} MB; first 200 ${Math.round(recovery)} ms after the thaw`,
    );
    row('frozen', {
      load: `10 clients; ${frozen.length} requests at 30 concurrent while frozen, 1 request caught between read and commit`,
      faults: 'every connection stalled (TCP relay frozen: a paused server or a stalled network), then thawed',
      lostWrites: 0,
      errors: `HTTP 503 x ${frozen.length + 1}, max latency ${max(latencies)} ms (bound ${BOUND_MS})`,
      recoveryMs: Math.round(recovery),
      notes:
        `the caught increment was ${held.appliedButFailed === 1 ? 'applied although answered 503' : 'not applied'}; ` +
        `heap ${after < before ? '' : '+'}${mb(after - before)} MB over the stall`,
    });
  });

  it('loses no acknowledged increment when every connection is cut under load and restored', async () => {
    await open('cut');
    const clients = await committedClients(app, 6);
    const outage = await outageUnderLoad(clients, {
      fault: () => relay.cut(),
      repair: () => relay.restore(),
      limitMs: RECOVERY_LIMIT_MS,
      boundMs: TWO_CALLS_BOUND_MS,
    });
    const { statuses, maxMs, applied } = outage;
    report(
      `cut under load: ${outage.attempted} increments attempted, ${outage.acknowledged} acknowledged, ` +
        `${statuses.get(503)} answered 503, ${applied} applied although answered 503; ` +
        `max latency ${maxMs} ms (bound ${TWO_CALLS_BOUND_MS}); first 200 ${outage.recoveryMs} ms after the relay listened again`,
    );
    row('cut under load', {
      load: `6 clients incrementing in a loop, ${outage.attempted} increments attempted`,
      faults: `every connection reset and new ones refused for ${outage.downMs} ms (a crash), then restored`,
      lostWrites: 0,
      errors: `HTTP 503 x ${statuses.get(503)}, max latency ${maxMs} ms (bound ${TWO_CALLS_BOUND_MS})`,
      recoveryMs: outage.recoveryMs,
      notes: `${outage.acknowledged} acknowledged, all there; ${applied} applied although answered 503`,
    });
  });
});
