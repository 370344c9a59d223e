/**
 * The capacity model's non-timing figures (docs/scaling.md): what one session costs in
 * Redis and in PostgreSQL, measured, not computed. Nothing here is timed, so it gives the
 * same numbers on a busy machine.
 *
 *   node --conditions=tsession-source --import tsx bench/capacity.ts [--redis-sessions 20000] [--postgres-sessions 100000] [--json]
 *
 * - Redis (a private redis-server on a free loopback port, so nothing else shares its
 *   memory): `MEMORY USAGE <key> SAMPLES 0` of session hashes with 1, 5 and 20 entries
 *   (typical values: short ids, flags, a cart line of about 120 bytes), the growth of
 *   `used_memory` per session (key, hash, TTL and the expiry index entry together), and
 *   the expiry index's bytes per member at one index for every session (standalone) and
 *   at about 610 members per index (10M sessions over 16,384 Cluster slots).
 * - The same 5-entry sessions through a loopback 3-master Cluster (started here): per
 *   master, its `used_memory` growth per session it holds (the per-shard check).
 * - PostgreSQL (a schema of its own, dropped at exit): table + index bytes per session
 *   after importing `--postgres-sessions` sessions of 5 entries (`pg_table_size`,
 *   `pg_indexes_size` of both tables, after VACUUM ANALYZE).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { Pool } from 'pg';
import type { ImportedRecord } from 'tsession';
import { PostgresStore } from 'tsession/postgres';
import { RedisStore } from 'tsession/redis';
import { emit, numberFlag } from './lib/args.js';

const NOW = Date.now() / 1000;
const POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test';
const redisSessions = numberFlag('redis-sessions', 20_000);
const postgresSessions = numberFlag('postgres-sessions', 100_000);

/** A session with `n` entries of typical sizes: ids, flags, counters, cart lines. */
function session(i: number, n: number): ImportedRecord {
  const values = [
    '"u-4f1c9a2e"',
    'true',
    '17',
    '"en-GB"',
    JSON.stringify({ sku: 'SKU-001234', qty: 2, price: 1999, title: 'A typical product title of some length' }),
  ];
  const entries = Array.from({ length: n }, (_, k) => ({
    pkg: k % 3 === 0 ? 'app.user' : k % 3 === 1 ? 'shop.cart' : 'app.prefs',
    key: `key${k}`,
    value: values[k % values.length] as string,
  }));
  // client keys as tsession issues them: 18 random bytes, 24 base64url characters
  const key = `${String(i).padStart(10, '0')}${'k'.repeat(14)}`;
  return { key, createdAt: NOW, lastAccess: NOW, expiresAt: NOW + 1800, entries };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function startRedis(): Promise<{ url: string; child: ChildProcess; dir: string }> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'tsession-capacity-'));
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', ''], {
    stdio: 'ignore',
  });
  const url = `redis://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    const probe = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    probe.on('error', () => {});
    const up = await probe.connect().then(
      () => probe.ping(),
      () => undefined,
    );
    probe.disconnect();
    if (up === 'PONG') return { url, child, dir };
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('capacity: redis-server did not start');
}

const usedMemory = async (admin: Redis) => Number(/used_memory:(\d+)/.exec(await admin.info('memory'))?.[1]);

async function importAll(store: RedisStore | PostgresStore, records: ImportedRecord[]): Promise<void> {
  for (let i = 0; i < records.length; i += 1000) {
    await store.importBatch(records.slice(i, i + 1000), NOW, { replace: false });
  }
}

async function redisFigures() {
  const { url, child, dir } = await startRedis();
  const admin = new Redis(url);
  try {
    const perEntries: Record<string, { memoryUsage: number; usedMemory: number }> = {};
    for (const n of [1, 5, 20]) {
      const prefix = `cap${n}:`;
      const store = new RedisStore({ url, prefix });
      const records = Array.from({ length: redisSessions }, (_, i) => session(i, n));
      const before = await usedMemory(admin);
      await importAll(store, records);
      const after = await usedMemory(admin);
      let usage = 0;
      const sample = records.slice(0, 1000);
      for (const r of sample) usage += Number(await admin.memory('USAGE', `${prefix}{${r.key}}`, 'SAMPLES', 0));
      perEntries[n] = {
        memoryUsage: Math.round(usage / sample.length),
        usedMemory: Math.round((after - before) / redisSessions),
      };
      await admin.flushall();
      await store.close();
    }
    // The index alone: one sorted set of every session (standalone), and one of ~610 (a Cluster slot at 10M sessions).
    const index = async (members: number) => {
      await admin.del('idx');
      for (let i = 0; i < members; i += 1000) {
        const args: (string | number)[] = [];
        for (let j = i; j < Math.min(members, i + 1000); j++) args.push(NOW + 1800 + (j % 1800), session(j, 0).key);
        await admin.zadd('idx', ...args);
      }
      return Number(await admin.memory('USAGE', 'idx', 'SAMPLES', 0)) / members;
    };
    const indexPerMember = {
      standalone: Math.round(await index(redisSessions)),
      clusterSlot: Math.round(await index(610)),
    };
    return { sessions: redisSessions, perEntries, indexPerMember };
  } finally {
    admin.disconnect();
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The per-shard check on a loopback 3-master Cluster: the same 5-entry sessions imported
 * through the Cluster, and per master its `used_memory` growth over the sessions it holds
 * (the keys of the store's prefix, by `DBSIZE`-like counts of its own keys).
 */
async function clusterFigures() {
  const { startRedisCluster } = await import('../test/support/redis-cluster.js');
  const cluster = await startRedisCluster();
  const admins = cluster.ports.map((port) => new Redis(`redis://127.0.0.1:${port}`));
  try {
    const store = new RedisStore({ url: cluster.url, prefix: 'capc:' });
    const before = await Promise.all(admins.map(usedMemory));
    await importAll(
      store,
      Array.from({ length: redisSessions }, (_, i) => session(i, 5)),
    );
    const after = await Promise.all(admins.map(usedMemory));
    const shards = [];
    for (const [i, admin] of admins.entries()) {
      let sessions = 0;
      let cursor = '0';
      do {
        const [next, keys] = await admin.scan(cursor, 'MATCH', 'capc:{*}', 'COUNT', 1000);
        cursor = next;
        sessions += keys.length;
      } while (cursor !== '0');
      const grown = (after[i] as number) - (before[i] as number);
      shards.push({ sessions, usedMemoryPerSession: Math.round(grown / sessions) });
    }
    await store.close();
    return { sessions: redisSessions, entriesPerSession: 5, shards };
  } finally {
    for (const admin of admins) admin.disconnect();
    await cluster.stop();
  }
}

async function postgresFigures() {
  const pool = new Pool({ connectionString: POSTGRES_URL, max: 2 });
  const schema = `tsession_capacity_${process.pid}`;
  const store = new PostgresStore({ pool, schema });
  try {
    await store.migrate();
    await importAll(
      store,
      Array.from({ length: postgresSessions }, (_, i) => session(i, 5)),
    );
    await pool.query(`VACUUM ANALYZE "${schema}".tsession_sessions, "${schema}".tsession_entries`);
    const size = async (table: string) => {
      const { rows } = await pool.query<{ t: string; i: string }>(
        `SELECT pg_table_size($1) AS t, pg_indexes_size($1) AS i`,
        [`"${schema}".${table}`],
      );
      return { table: Number(rows[0]?.t), indexes: Number(rows[0]?.i) };
    };
    const sessions = await size('tsession_sessions');
    const entries = await size('tsession_entries');
    const per = (bytes: number) => Math.round(bytes / postgresSessions);
    return {
      sessions: postgresSessions,
      entriesPerSession: 5,
      bytesPerSession: {
        sessionsTable: per(sessions.table),
        sessionsIndexes: per(sessions.indexes),
        entriesTable: per(entries.table),
        entriesIndexes: per(entries.indexes),
        total: per(sessions.table + sessions.indexes + entries.table + entries.indexes),
      },
    };
  } finally {
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => {});
    await pool.end();
  }
}

const redis = await redisFigures();
const cluster = await clusterFigures();
const postgres = await postgresFigures();
const lines = [
  ...Object.entries(redis.perEntries).map(
    ([n, f]) => `redis: ${n} entries: MEMORY USAGE ${f.memoryUsage} B/session, used_memory +${f.usedMemory} B/session`,
  ),
  `redis: expiry index ${redis.indexPerMember.standalone} B/member (one index of ${redis.sessions}), ${redis.indexPerMember.clusterSlot} B/member (610 per slot)`,
  `redis cluster: 5 entries, per master: ${cluster.shards.map((s) => `${s.sessions} sessions at ${s.usedMemoryPerSession} B`).join(', ')}`,
  `postgres: ${postgres.sessions} sessions of 5 entries: ${JSON.stringify(postgres.bytesPerSession)} B/session`,
];
emit({ redis, cluster, postgres }, `${lines.join('\n')}\n`);
