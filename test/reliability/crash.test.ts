/**
 * Crashes (issue 7): the demo server (node:http + SqliteStore, WAL) in a child process,
 * under a write load of clients incrementing the visit counter (GET /) and adding to
 * their carts (POST /cart/add), is killed with SIGKILL mid-load and started again on the
 * same data dir, TSESSION_CRASH_ROUNDS times (default 20). After each kill the database
 * passes `PRAGMA integrity_check`; after each restart every write whose response the
 * client received is there, and nothing the clients did not send.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { type DemoProcess, startDemo } from './demo-process.js';
import { envInt, recordRow } from './record.js';

const ROUNDS = envInt('TSESSION_CRASH_ROUNDS', 20);
const COUNTERS = 6;
const CARTS = 2;
/** Acknowledged requests in a round before the kill is armed; the kill then comes 0-300 ms later. */
const ARM_AFTER = 20;
const CART_CAP = 45; // the demo refuses more than 50 items per cart

const dataDir = mkdtempSync(join(tmpdir(), 'tsession-crash-'));
/** The demo running now, killed at the end even when an assertion failed mid-round. */
let current: DemoProcess | undefined;
afterAll(async () => {
  await current?.kill();
  rmSync(dataDir, { recursive: true, force: true });
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Client {
  cookie: string | undefined;
  /** Counter: the value of the last acknowledged increment; requests sent since then without an answer. */
  lastAck: number;
  unanswered: number;
  /** Cart: items acknowledged (303), and items sent without an answer. */
  acked: string[];
  maybe: string[];
  attempted: number;
  acknowledged: number;
  /** Writes sent without an answer that were found applied. */
  landed: number;
}

const newClient = (): Client => ({
  cookie: undefined,
  lastAck: 0,
  unanswered: 0,
  acked: [],
  maybe: [],
  attempted: 0,
  acknowledged: 0,
  landed: 0,
});

async function send(client: Client, url: string, init: RequestInit = {}): Promise<{ status: number; body: string }> {
  const res = await fetch(url, {
    ...init,
    redirect: 'manual',
    headers: { ...(init.headers as Record<string, string>), ...(client.cookie && { cookie: client.cookie }) },
    signal: AbortSignal.timeout(15_000),
  });
  const body = await res.text();
  const setCookie = res.headers.getSetCookie().find((c) => c.startsWith('tsession='));
  if (setCookie) client.cookie = setCookie.split(';')[0];
  return { status: res.status, body };
}

/** One GET /: checks the counter it reports against what the client was acknowledged before. */
async function increment(client: Client, url: string): Promise<boolean> {
  if (client.cookie === undefined) client.lastAck = client.unanswered = 0; // a fresh session
  client.attempted++;
  client.unanswered++;
  let answer: { status: number; body: string };
  try {
    answer = await send(client, `${url}/`);
  } catch {
    return false; // the server died: this increment may or may not have been applied
  }
  expect(answer.status).toBe(200);
  const n = Number(/<div class="big">(\d+)<\/div>/.exec(answer.body)?.[1]);
  // n is the stored count plus this request's own increment
  expect(n - 1, 'an acknowledged increment was lost').toBeGreaterThanOrEqual(client.lastAck);
  expect(n - 1, 'the counter holds increments nobody sent').toBeLessThanOrEqual(client.lastAck + client.unanswered - 1);
  client.landed += n - 1 - client.lastAck;
  client.lastAck = n;
  client.unanswered = 0;
  client.acknowledged++;
  return true;
}

/** One POST /cart/add of a new item. */
async function addItem(client: Client, url: string, item: string): Promise<boolean> {
  client.attempted++;
  client.maybe.push(item);
  try {
    const { status } = await send(client, `${url}/cart/add`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ item }).toString(),
    });
    expect(status).toBe(303);
  } catch (error) {
    if ((error as Error).name === 'AssertionError') throw error;
    return false;
  }
  client.maybe.pop();
  client.acked.push(item);
  client.acknowledged++;
  return true;
}

/** Reads the cart back: every acknowledged item is there, and nothing that was never sent. */
async function checkCart(client: Client, url: string): Promise<number> {
  if (client.cookie === undefined) return 0;
  const { status, body } = await send(client, `${url}/cart`);
  expect(status).toBe(200);
  const items = [...body.matchAll(/<li><span>([^<]*)<\/span>/g)].map((m) => m[1] as string);
  for (const item of client.acked) expect(items, `acknowledged item ${item} lost`).toContain(item);
  const landed = items.filter((item) => client.maybe.includes(item));
  expect(items.length).toBe(client.acked.length + landed.length);
  client.acked.push(...landed);
  client.landed += landed.length;
  client.maybe = [];
  return landed.length;
}

function integrityCheck(): number {
  const db = new Database(join(dataDir, 'sessions.db'));
  try {
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    return db.prepare('SELECT count(*) FROM tsession_sessions').pluck().get() as number;
  } finally {
    db.close();
  }
}

describe('crash: kill -9 of the SQLite demo under write load', () => {
  it(`${ROUNDS} rounds: the database always opens, and every acknowledged write survives`, async () => {
    const started = performance.now();
    const counters = Array.from({ length: COUNTERS }, newClient);
    const carts = Array.from({ length: CARTS }, newClient);
    const retired: Client[] = [];
    const starts: number[] = [];
    let unansweredAtKill = 0;
    let sessionsInDb = 0;
    for (let round = 0; round <= ROUNDS; round++) {
      const demo: DemoProcess = await startDemo(dataDir);
      current = demo;
      starts.push(demo.startMs);
      // what the last crash left: every counter client checks on its first request, carts are read back
      for (const client of [...carts, ...retired]) await checkCart(client, demo.url);
      if (round === ROUNDS) {
        for (const client of counters) expect(await increment(client, demo.url)).toBe(true);
        await demo.kill();
        break;
      }
      let acks = 0;
      let alive = true;
      const loops = [
        ...counters.map(async (client) => {
          while (alive && (await increment(client, demo.url))) acks++;
        }),
        ...carts.map(async (_, i) => {
          let k = 0;
          while (alive) {
            if ((carts[i] as Client).acked.length + (carts[i] as Client).maybe.length >= CART_CAP) {
              retired.push(carts[i] as Client);
              carts[i] = newClient();
            }
            if (!(await addItem(carts[i] as Client, demo.url, `r${round}-c${i}-${k++}`))) break;
            acks++;
          }
        }),
      ];
      while (acks < ARM_AFTER) await sleep(5);
      await sleep(Math.random() * 300);
      await demo.kill();
      alive = false;
      await Promise.all(loops);
      unansweredAtKill += counters.filter((c) => c.unanswered > 0).length;
      unansweredAtKill += carts.filter((c) => c.maybe.length > 0).length;
      sessionsInDb = integrityCheck();
    }
    const all = [...counters, ...carts, ...retired];
    const sum = (pick: (c: Client) => number) => all.reduce((t, c) => t + pick(c), 0);
    const medianStart = [...starts].sort((a, b) => a - b)[Math.floor(starts.length / 2)] as number;
    recordRow('crash', {
      test: 'kill -9 of the SQLite demo under write load',
      load: `${ROUNDS} kills; ${COUNTERS} clients incrementing (GET /) and ${CARTS} adding to carts (POST /cart/add), sequential requests`,
      faults: `SIGKILL 0-300 ms after ${ARM_AFTER} acknowledged writes in each round, restart on the same data dir`,
      inputs: 'none',
      lostWrites: 0,
      errors: `${unansweredAtKill} requests in flight at the kills (no answer)`,
      recoveryMs: Math.round(medianStart),
      notes:
        `${sum((c) => c.attempted)} writes sent, ${sum((c) => c.acknowledged)} acknowledged, all found after restart; ` +
        `${sum((c) => c.landed)} of the writes in flight at a kill were applied although their response was lost; integrity_check ok ${ROUNDS}/${ROUNDS}; ` +
        `${sessionsInDb} sessions in the file; restart to listening: median ${Math.round(medianStart)} ms, max ${Math.round(Math.max(...starts))} ms`,
      durationMs: Math.round(performance.now() - started),
    });
  }, 600_000);
});
