import { afterAll, beforeAll, expect, it } from 'vitest';
import { type AppProcess, CookieClient, startApp } from './processes.js';

/** What the cases need: the env that points both apps at one store, and how to clean it up. */
export interface SharedStore {
  env: Record<string, string>;
  cleanup(): Promise<void>;
}

/**
 * Two app processes over one store, a client with no affinity: registers the cases in
 * the surrounding `describe`.
 */
export function twoProcessCases(setup: () => Promise<SharedStore>, { crossProcessSafe = true } = {}): void {
  let shared: SharedStore | undefined;
  let apps: AppProcess[] = [];
  const app = (i: number) => apps[i % 2] as AppProcess;

  beforeAll(async () => {
    shared = await setup();
    const env = { ...shared.env, TSESSION_DIST_SECRET: 'distributed-test-secret-0123456789abcdef' };
    apps = await Promise.all([startApp(env), startApp(env)]);
  });
  afterAll(async () => {
    await Promise.all(apps.map((a) => a.stop()));
    await shared?.cleanup();
  });

  it('a client alternating between the two processes sees every previous write (20 alternations)', async () => {
    const client = new CookieClient();
    const pids = new Set<unknown>();
    for (let i = 0; i < 20; i++) {
      const wrote = await client.get(app(i), `/write?value=v${i}`);
      expect(wrote.status, app(i).stderr()).toBe(200);
      const read = await client.get(app(i + 1), '/read');
      expect(read.body).toEqual({ last: `v${i}`, pid: app(i + 1).pid });
      pids.add((wrote.body as { pid: number }).pid).add((read.body as { pid: number }).pid);
    }
    expect(pids).toEqual(new Set([apps[0]?.pid, apps[1]?.pid]));
  });

  if (!crossProcessSafe) {
    wholeBlobCases(app);
    return;
  }

  it('50 concurrent requests over both processes, each writing a different key of one session: all 50 kept', async () => {
    const client = new CookieClient();
    expect((await client.get(app(0), '/write?value=base')).status).toBe(200);
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => client.get(app(i), `/set?key=k${i}`)));
    expect(results.map((r) => r.status)).toEqual(Array(50).fill(200));
    const { body } = await client.get(app(1), '/dump');
    const data = (body as { data: Record<string, unknown> }).data;
    expect(Object.keys(data).sort()).toEqual(['last', ...Array.from({ length: 50 }, (_, i) => `k${i}`)].sort());
    for (let i = 0; i < 50; i++) expect(data[`k${i}`]).toBe(app(i).pid);
  });

  it('50 concurrent read-then-write requests of one key over both processes: exactly the winners kept, every loser 409', async () => {
    const client = new CookieClient();
    expect((await client.get(app(0), '/write?value=start')).status).toBe(200);
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => client.get(app(i), `/append?id=r${i}`)));
    const winners = results.flatMap((r, i) => (r.status === 200 ? [`r${i}`] : []));
    const losers = results.filter((r) => r.status !== 200);
    expect(losers.every((r) => r.status === 409)).toBe(true);
    expect(winners.length).toBeGreaterThan(0);
    expect(winners.length + losers.length).toBe(50);
    const { body } = await client.get(app(1), '/dump');
    const log = (body as { data: { log: string[] } }).data.log;
    expect([...log].sort()).toEqual([...winners].sort());
    console.info(`read-then-write race: ${winners.length} winners, ${losers.length} conflicts (409)`);
  });
}

/**
 * The same races over a store without cross-process compare-and-set (ConnectStore):
 * nothing is asserted beyond consistency of what is kept; the counts are printed to
 * show what such a store loses.
 */
function wholeBlobCases(app: (i: number) => AppProcess): void {
  it('LIMITATION: concurrent different-key writes across processes may lose some (counted, not all kept)', async () => {
    const client = new CookieClient();
    expect((await client.get(app(0), '/write?value=base')).status).toBe(200);
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => client.get(app(i), `/set?key=k${i}`)));
    expect(results.map((r) => r.status)).toEqual(Array(50).fill(200));
    const { body } = await client.get(app(1), '/dump');
    const kept = Object.keys((body as { data: Record<string, unknown> }).data).filter((k) => k.startsWith('k'));
    expect(kept.length).toBeGreaterThan(0);
    console.info(`whole-blob store, different keys across 2 processes: ${kept.length} of 50 kept`);
  });

  it('LIMITATION: concurrent read-then-write across processes: some successful writes are silently overwritten', async () => {
    const client = new CookieClient();
    expect((await client.get(app(0), '/write?value=start')).status).toBe(200);
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => client.get(app(i), `/append?id=r${i}`)));
    const winners = results.flatMap((r, i) => (r.status === 200 ? [`r${i}`] : []));
    expect(results.every((r) => r.status === 200 || r.status === 409)).toBe(true);
    const { body } = await client.get(app(1), '/dump');
    const log = (body as { data: { log: string[] } }).data.log;
    expect(log.every((id) => winners.includes(id))).toBe(true);
    console.info(`whole-blob store, same key across 2 processes: ${winners.length} got 200, ${log.length} kept`);
  });
}
