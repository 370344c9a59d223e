/**
 * RedisStore on a Cluster resharded under a running app: a slot moves, with its keys, to
 * another master while the store's client still holds the old slot map (as when an
 * operator adds a shard). The old owner answers the next command MOVED. ioredis follows a
 * MOVED reply to a single command, and resends a pipeline whose every command was answered
 * MOVED, but not a pipeline in which another command ran: a durable commit (the script,
 * then WAIT) or an import pipeline spanning several slots of one node. The store reads the
 * slot map again and sends what did not run once more, so none of these answers 503.
 */
import { Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RedisStore } from '../../src/stores/redis/index.js';
import { exportSessions, importSessions } from '../../src/transfer/index.js';
import { recordRow } from '../reliability/record.js';
import { line, NOW } from '../stores/import-cases.js';
import { askNode, moveSlot, type RedisCluster, startRedisCluster } from '../support/redis-cluster.js';
import { redisBinaryAvailable } from '../support/redis-server.js';
import { uniquePrefix } from '../support/services.js';
import { type LedgerApp, ledgerClient, startLedgerApp } from './ledger-app.js';

const available = await redisBinaryAvailable();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Calls of `command` on the server on `port` since its last CONFIG RESETSTAT. */
const commandCalls = async (port: number, command: string) =>
  Number(
    new RegExp(`^cmdstat_${command}:calls=(\\d+)`, 'm').exec(await askNode(port, ['INFO', 'commandstats']))?.[1] ?? 0,
  );
/** A row of docs/reliability.md (.tmp/reliability/faults-redis-reshard.json). */
const row = (test: string, fields: Omit<Parameters<typeof recordRow>[1], 'test' | 'inputs' | 'recoveryMs'>) =>
  recordRow('faults-redis-reshard', { test: `RedisStore ${test}`, inputs: 'none', recoveryMs: null, ...fields });

describe.skipIf(!available)('RedisStore on a 3-master + 3-replica Cluster resharded under a running app', () => {
  let cluster: RedisCluster;
  let store: RedisStore | undefined;
  let app: LedgerApp | undefined;
  beforeAll(async () => {
    cluster = await startRedisCluster({ replicas: 1 });
  }, 120_000);
  afterEach(async () => {
    await app?.close();
    await store?.close();
    app = undefined;
    store = undefined;
  });
  afterAll(async () => {
    await cluster?.stop();
  }, 60_000);

  const slotOf = async (key: string) => Number(await askNode(cluster.ports[0] as number, ['CLUSTER', 'KEYSLOT', key]));
  /** The keys of `prefix` each master holds. */
  const keysPerPort = async (prefix: string) =>
    new Map(
      await Promise.all(
        cluster.servers.map(
          async (s) => [s.port, (await askNode(s.port, ['KEYS', `${prefix}{*}`])).split(',').filter(Boolean)] as const,
        ),
      ),
    );

  for (const durable of [false, true]) {
    const mode = durable ? 'waitReplicas: 1' : 'default';
    const open = (prefix: string) =>
      new RedisStore({ url: cluster.url, prefix, ...(durable && { waitReplicas: 1, waitTimeoutSeconds: 1 }) });

    /** A ledger app over a store of this mode, and a client whose session holds 3 acknowledged writes. */
    const sessionWithWrites = async (label: string) => {
      const prefix = `${uniquePrefix(label)}:`;
      store = open(prefix);
      const started = await startLedgerApp(store);
      app = started;
      const client = ledgerClient(started.url);
      for (let i = 0; i < 3; i++) expect((await client.put()).status).toBe(200);
      const [sessionKey] = [...(await keysPerPort(prefix)).values()].flat();
      expect(sessionKey).toBeDefined();
      return { prefix, client, sessionKey: sessionKey as string, app: started };
    };

    it(`${mode}: after a session's slot moved, every request (a blind write first) answers 200 and no acknowledged write is lost`, async () => {
      const { prefix, client, sessionKey, app } = await sessionWithWrites('reshard');
      const { to } = await moveSlot(cluster, await slotOf(sessionKey));

      // A blind write first: a load would have met the MOVED alone and refreshed the client's map.
      expect((await client.put(true)).status).toBe(200);
      for (let i = 0; i < 2; i++) expect((await client.put()).status).toBe(200);
      expect(app.unexpected).toEqual([]);
      expect(await client.lost()).toBe(0);
      expect(client.acknowledged).toBe(6);
      expect((await keysPerPort(prefix)).get(to)).toEqual([sessionKey]);
      row(`${mode}: a session's slot resharded under a running app`, {
        load: '1 client: 3 writes, the move, a blind write, 2 writes',
        faults: 'its slot moved with its keys to another master (IMPORTING, MIGRATING, MIGRATE, SETSLOT NODE)',
        lostWrites: 0,
        errors: 'none',
        notes: 'the first request after the move is a blind write, so no load refreshes the slot map before it',
      });
    }, 60_000);

    it(`${mode}: while a session's slot is migrating (the old owner answers ASK), every request answers 200, none lost`, async () => {
      const { client, sessionKey, app } = await sessionWithWrites('reshard-ask');
      const during: number[] = [];
      await moveSlot(cluster, await slotOf(sessionKey), {
        midway: async ({ to }) => {
          await askNode(to, ['CONFIG', 'RESETSTAT']);
          during.push((await client.put(true)).status);
          for (let i = 0; i < 3; i++) during.push((await client.put()).status);
          // The requests reached the importing node through ASK (each command after ASKING).
          expect(await commandCalls(to, 'asking')).toBeGreaterThan(0);
        },
      });
      for (let i = 0; i < 3; i++) expect((await client.put()).status).toBe(200);
      expect(app.unexpected).toEqual([]);
      expect(during).toEqual([200, 200, 200, 200]);
      expect(await client.lost()).toBe(0);
      row(`${mode}: requests while a session's slot is migrating`, {
        load: '1 client: 3 writes, then during the migration a blind write and 3 writes, then 3 writes',
        faults: 'its keys migrated to another master, the slot not yet reassigned: the old owner answers ASK',
        lostWrites: 0,
        errors: 'none',
        notes: 'every request answered 200; the commits reached the importing node after ASKING',
      });
    }, 60_000);

    it(`${mode}: a bulk import while a slot is migrating writes every record once the migration ends`, async () => {
      const prefix = `${uniquePrefix('reshard-import-ask')}:`;
      store = open(prefix);
      const importing = store;
      const read = (lines: string[]) => Readable.from(lines.map((l) => `${l}\n`).join(''));
      const options = { now: NOW, clientKeys: 'thirdParty' } as const;
      expect(await importSessions(store, read([line('first')]), options)).toMatchObject({ imported: 1 });
      const lines = ['migrating', ...Array.from({ length: 40 }, (_, i) => `s${i}`)].map((key) => line(key));
      let imported: Promise<unknown> | undefined;
      await moveSlot(cluster, await slotOf(`${prefix}{migrating}`), {
        // The old owner answers ASK for the new record and the importing node TRYAGAIN (its keys
        // are on neither node yet): the import waits and sends again until the slot is reassigned.
        midway: async ({ to }) => {
          await askNode(to, ['CONFIG', 'RESETSTAT']);
          imported = importSessions(importing, read(lines), options);
          for (let i = 0; i < 200 && (await commandCalls(to, 'asking')) === 0; i++) await sleep(10);
          expect(await commandCalls(to, 'asking')).toBeGreaterThan(0);
        },
      });
      expect(await imported).toEqual({ imported: 41, skipped: 0, problems: [] });
      const exported: string[] = [];
      for await (const text of exportSessions(store, NOW)) exported.push(text.trimEnd());
      expect(exported.sort()).toEqual([line('first'), ...lines].sort());
      row(`${mode}: a bulk import while a slot is migrating`, {
        load: 'importSessions of 41 records over 3 masters',
        faults: "one new record's slot migrating: ASK from the old owner, TRYAGAIN from the importing node",
        lostWrites: 0,
        errors: 'none',
        notes:
          'the import sent the record again (100 ms apart) until the slot was reassigned: 41 imported, exported back identically',
      });
    }, 60_000);

    it(`${mode}: a bulk import into a moved slot writes every record and reports them imported`, async () => {
      const prefix = `${uniquePrefix('reshard-import')}:`;
      store = open(prefix);
      const read = (lines: string[]) => Readable.from(lines.map((l) => `${l}\n`).join(''));
      const options = { now: NOW, clientKeys: 'thirdParty' } as const;
      // The client reads the slot map with a first import, then the slot of one of the next records moves.
      expect(await importSessions(store, read([line('first')]), options)).toEqual({
        imported: 1,
        skipped: 0,
        problems: [],
      });
      await moveSlot(cluster, await slotOf(`${prefix}{moved}`));

      const lines = ['moved', ...Array.from({ length: 40 }, (_, i) => `s${i}`)].map((key) => line(key));
      expect(await importSessions(store, read(lines), options)).toEqual({ imported: 41, skipped: 0, problems: [] });
      const exported: string[] = [];
      for await (const text of exportSessions(store, NOW)) exported.push(text.trimEnd());
      expect(exported.sort()).toEqual([line('first'), ...lines].sort());
      row(`${mode}: a bulk import into a resharded slot`, {
        load: 'importSessions of 41 records over 3 masters',
        faults: "one record's slot moved to another master after the client read the slot map",
        lostWrites: 0,
        errors: 'none',
        notes: '41 imported, exported back identically',
      });
    }, 60_000);
  }
});
