/**
 * PostgresStore when the server cannot be reached: refused, silent, stuck on a lock, or
 * gone and back. The outage is real (a closed port, a socket that never answers, a TCP
 * relay to the real server that is cut and restored), never a mocked client.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../../src/index.js';
import { PostgresStore } from '../../src/stores/postgres/index.js';
import type { SessionDelta } from '../../src/stores/types.js';
import { POSTGRES_URL, serviceAvailable, uniquePrefix } from '../support/services.js';

const available = await serviceAvailable('postgres');
const SCHEMA = uniquePrefix('pgfail');
const NOW = 1_700_000_000;
const PKG = 'app.data';
const pgUrl = new URL(POSTGRES_URL);

/** A TCP relay to the real server that can be cut (every connection dropped) and restored on the same port. */
function relay() {
  let server: Server | undefined;
  const sockets = new Set<Socket>();
  const track = (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
  };
  return {
    port: 0,
    async start() {
      server = createServer((client) => {
        const upstream = createConnection({ host: pgUrl.hostname, port: Number(pgUrl.port || 5432) });
        track(client);
        track(upstream);
        client.pipe(upstream).on('close', () => client.destroy());
        upstream.pipe(client).on('close', () => upstream.destroy());
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
      });
      await new Promise<void>((resolve) => server?.listen(this.port, '127.0.0.1', resolve));
      this.port = (server.address() as { port: number }).port;
    },
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server?.close(resolve));
    },
  };
}

function urlOnPort(port: number): string {
  const url = new URL(POSTGRES_URL);
  url.hostname = '127.0.0.1';
  url.port = String(port);
  return url.href;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.fail('expected the call to fail'),
    (error: unknown) => error,
  );
}

describe.skipIf(!available)('PostgresStore when the server is unavailable', () => {
  let admin: Pool;
  beforeAll(async () => {
    admin = new Pool({ connectionString: POSTGRES_URL, max: 2 });
  });
  afterAll(async () => {
    await admin?.query(`DROP SCHEMA IF EXISTS "${SCHEMA}" CASCADE`);
    await admin?.end();
  });

  it('fails every call with StoreUnavailableError on a closed port', async () => {
    const store = new PostgresStore({ connectionString: 'postgres://postgres@127.0.0.1:1/test' });
    const calls = [
      () => store.load('a', NOW),
      () => store.commit('a', { create: false, writes: [] }, NOW),
      () => store.destroy('a'),
      () => store.sweep(NOW),
      () => store.migrate(),
    ];
    for (const call of calls) {
      const error = await rejection(call());
      expect(error).toBeInstanceOf(StoreUnavailableError);
      expect((error as StoreUnavailableError).status).toBe(503);
      expect((error as Error).cause).toMatchObject({ code: 'ECONNREFUSED' });
    }
    await store.close();
  });

  it('gives up on a server that accepts but never answers after the connect timeout', async () => {
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    const store = new PostgresStore({ connectionString: urlOnPort(port), connectTimeoutSeconds: 0.3 });
    const error = await rejection(store.load('a', NOW));
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect((error as Error).message).toMatch(/timeout/i);
    await store.close();
    silent.close();
  });

  it('fails a commit stuck behind a lock with StoreUnavailableError, having written nothing', async () => {
    const pool = new Pool({ connectionString: POSTGRES_URL, max: 2 });
    const store = new PostgresStore({ pool, schema: SCHEMA, table: 'locked', statementTimeoutSeconds: 0.3 });
    await store.migrate();
    await store.commit('a', { create: true, touch: { lastAccess: NOW, expiresAt: null }, writes: [] }, NOW);
    const holder = await admin.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(`SELECT 1 FROM "${SCHEMA}"."locked_sessions" WHERE key = 'a' FOR UPDATE`);
      const write: SessionDelta = { create: false, writes: [{ pkg: PKG, key: 'x', value: '1' }] };
      const error = await rejection(store.commit('a', write, NOW));
      expect(error).toBeInstanceOf(StoreUnavailableError);
      expect((error as Error).cause).toMatchObject({ code: '55P03' });
      await holder.query('ROLLBACK');
      expect((await store.load('a', NOW))?.entries).toEqual([]);
      await store.commit('a', write, NOW);
      expect((await store.load('a', NOW))?.entries).toHaveLength(1);
    } finally {
      holder.release();
      await store.close();
      await pool.end();
    }
    expect(pool.ended).toBe(true);
  });

  it('fails fast while the server is cut off and recovers by itself when it is back', async () => {
    const link = relay();
    await link.start();
    const store = new PostgresStore({ connectionString: urlOnPort(link.port), schema: SCHEMA, table: 'relayed' });
    await store.migrate();
    const write = (value: string) => store.commit('a', { create: false, writes: [{ pkg: PKG, key: 'x', value }] }, NOW);
    await store.commit('a', { create: true, touch: { lastAccess: NOW, expiresAt: null }, writes: [] }, NOW);
    await write('before');

    await link.stop();
    for (const call of [() => store.load('a', NOW), () => write('during'), () => store.load('a', NOW)]) {
      expect(await rejection(call())).toBeInstanceOf(StoreUnavailableError);
    }

    await link.start();
    expect((await store.load('a', NOW))?.entries).toEqual([{ pkg: PKG, key: 'x', value: 'before', version: 1 }]);
    await write('after');
    expect((await store.load('a', NOW))?.entries).toEqual([{ pkg: PKG, key: 'x', value: 'after', version: 2 }]);
    await store.close();
    expect(store.pool.ended).toBe(true);
    await link.stop();
  });
});
