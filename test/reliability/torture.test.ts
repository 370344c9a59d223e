/**
 * Concurrency torture (issue 7): clients, each four loops in parallel sharing one cookie
 * jar (a browser with tabs), over real HTTP through `tsession/http`, mixing reads, blind
 * writes of disjoint keys, same-key increments under `retryOnConflict`, login
 * (`regenerate`) and logout (`invalidate`), against every store. At the end the store is
 * checked against the ledger of acknowledged requests: counters exact, every slot's last
 * acknowledged write there, no logged-out or regenerated-away key still stored.
 *
 * CI runs TSESSION_TORTURE_CLIENTS (20) × TSESSION_TORTURE_REQUESTS (100) per store;
 * TSESSION_TORTURE=long runs 100 × 1,000.
 */
import { performance } from 'node:perf_hooks';
import { afterAll, describe, expect, it } from 'vitest';
import { browser, memoryManager, request } from '../helpers.js';
import { everyStore } from '../support/every-store.js';
import { bump, envInt, recordRow, tally } from './record.js';
import { startTortureApp } from './torture-app.js';
import { type Carried, Ledger } from './torture-ledger.js';

const LONG = process.env.TSESSION_TORTURE === 'long';
const CLIENTS = envInt('TSESSION_TORTURE_CLIENTS', LONG ? 100 : 20);
const REQUESTS = envInt('TSESSION_TORTURE_REQUESTS', LONG ? 1_000 : 100);
const LOOPS = 4;
/** The regenerate race below is fixed (`SessionDelta.replacesEntries`): the torture fails on any write lost to it. */
const REGENERATE_RACE_FIXED = true;

const { kinds, cleanup } = await everyStore('torture');
afterAll(cleanup);

const keyOf = (id: string) => id.split('.')[0] as string;
type Op = 'read' | 'put' | 'inc' | 'login' | 'logout';
const pick = (): Op => {
  const r = Math.random();
  return r < 0.25 ? 'read' : r < 0.5 ? 'put' : r < 0.9 ? 'inc' : r < 0.95 ? 'login' : 'logout';
};

/** One client: LOOPS loops sharing a cookie jar, REQUESTS requests in all, each acknowledged effect in `ledger`. */
async function client(url: string, ledger: Ledger, statuses: Map<string, number>, ops: Map<string, number>) {
  let jar: string | undefined;
  const loop = async (slot: string, count: number) => {
    let seq = 0;
    for (let i = 0; i < count; i++) {
      const op = pick();
      const sent = jar;
      const put = Math.random() < 0.5 ? '/put' : '/set';
      const path = op === 'put' ? `${put}?slot=${slot}&v=${++seq}` : `/${op}`;
      const res = await fetch(url + path, {
        method: op === 'read' ? 'GET' : 'POST',
        headers: sent ? { cookie: `tsession=${sent}` } : {},
        signal: AbortSignal.timeout(60_000),
      });
      const body = (await res.json().catch(() => undefined)) as Record<string, unknown> | undefined;
      bump(statuses, String(res.status));
      if (res.status !== 200) continue;
      bump(ops, op);
      const setCookie = res.headers.getSetCookie().find((c) => c.startsWith('tsession='));
      const given = setCookie ? /^tsession=([^;]*)/.exec(setCookie)?.[1] : undefined;
      if (setCookie !== undefined) jar = given === '' ? undefined : given;
      const key = given ? keyOf(given) : sent && keyOf(sent);
      switch (op) {
        case 'inc':
          ledger.inc(key as string, body?.n as number);
          break;
        case 'put':
          ledger.put(key as string, slot, seq);
          break;
        case 'login':
          expect(given).toMatch(/\./);
          ledger.login(body?.known && sent ? keyOf(sent) : undefined, key as string, body?.carried as Carried);
          break;
        case 'logout':
          if (sent) ledger.logout(keyOf(sent));
          break;
      }
    }
  };
  const per = Math.ceil(REQUESTS / LOOPS);
  await Promise.all(Array.from({ length: LOOPS }, (_, i) => loop(`s${i}`, Math.min(per, REQUESTS - i * per))));
}

describe('concurrency torture over real HTTP (tsession/http)', () => {
  for (const { name, available, open } of kinds) {
    it.skipIf(!available)(
      `${name}: ${CLIENTS} clients × ${REQUESTS} requests: the store holds exactly what was acknowledged`,
      async () => {
        const store = await open();
        const app = await startTortureApp(store);
        const ledger = new Ledger();
        const statuses = new Map<string, number>();
        const ops = new Map<string, number>();
        const started = performance.now();
        try {
          await Promise.all(Array.from({ length: CLIENTS }, () => client(app.url, ledger, statuses, ops)));
          const ms = performance.now() - started;
          expect(app.unexpected).toEqual([]);
          expect([...statuses.keys()].filter((s) => s !== '200' && s !== '409')).toEqual([]);
          const check = await ledger.check(store, Date.now() / 1000);
          if (REGENERATE_RACE_FIXED) expect(check.lostToRegenerate + check.slotsLostToRegenerate).toBe(0);
          const requests = CLIENTS * REQUESTS;
          recordRow('torture', {
            test: `Concurrency torture, ${name}`,
            load: `${CLIENTS} clients × ${REQUESTS} requests (${LOOPS} parallel loops each, one cookie jar)`,
            faults: 'none (races only)',
            inputs:
              '25% reads, 25% blind disjoint-key writes, 40% same-key increments (retryOnConflict, 5 attempts), 5% login (regenerate), 5% logout (invalidate)',
            lostWrites: check.lostToRegenerate + check.slotsLostToRegenerate,
            errors: tally(new Map([...statuses].filter(([s]) => s !== '200').map(([s, n]) => [`HTTP ${s}`, n]))),
            recoveryMs: null,
            notes:
              `${tally(ops)} acknowledged; ${check.keys} session keys: ${check.live} live with counters and slots exact ` +
              `(stored total ${check.storedTotal}), ${check.dead} logged out or regenerated away and none still stored; ` +
              `acknowledged writes lost to the regenerate race: ${check.lostToRegenerate} increments, ${check.slotsLostToRegenerate} slots; ` +
              `${Math.round(requests / (ms / 1000))} requests/s`,
            durationMs: Math.round(ms),
          });
        } finally {
          await app.close();
          await app.manager.close();
        }
      },
      600_000,
    );
  }
});

// Once a bug: regenerate() moves the snapshot its request loaded, and stores checked only that the old record was
// still live, so a write acknowledged between the regenerate's load and its commit was dropped with the old record.
// The move now carries the entries and versions it loaded (`replacesEntries`) and the store refuses a changed record.
it('regenerate racing an acknowledged write keeps the write (or conflicts)', async () => {
  const { manager } = memoryManager();
  const client = browser(manager);
  await client.visit(async (session) => (await session.get('c')).set('n', 5));
  const login = manager.open(request({ cookie: client.cookie as string }));
  await login.get('c');
  const inc = manager.open(request({ cookie: client.cookie as string }));
  const counter = await inc.get('c');
  counter.set('n', (counter.get('n') as number) + 1);
  await inc.commit(); // acknowledged: 6
  await login.regenerate();
  const outcome = await login.commit().then(
    () => 'committed',
    (error: unknown) => (error as Error).name,
  );
  if (outcome === 'committed') {
    const after = manager.open(request({ cookie: `tsession=${login.clientId}` }));
    expect((await after.get('c')).get('n')).toBe(6);
  } else {
    expect(outcome).toBe('ConflictError');
    // Nothing written: the old session still holds the acknowledged write.
    const old = manager.open(request({ cookie: client.cookie as string }));
    expect((await old.get('c')).get('n')).toBe(6);
  }
});
