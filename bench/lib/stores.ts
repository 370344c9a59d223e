/**
 * Opens a store by name for the bench. Stores other than memory are imported
 * dynamically, so the bench runs (and skips them, saying why) while they are
 * still being written.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import type { SessionStore } from 'tsession';
import { MemoryStore } from 'tsession/memory';

/** A store and how to remove what it left behind. */
export interface OpenedStore {
  readonly store: SessionStore;
  /** Closes the store and deletes its file or keys. */
  dispose(): Promise<void>;
}

export type StoreKind = 'memory' | 'sqlite' | 'redis' | 'postgres';

/** Called once per statement a PostgreSQL store sends, with its first keyword (or the function it calls). */
export type StatementCounter = (name: string) => void;

/** `SELECT tsession_commit(...)` -> `SELECT tsession_commit`, `BEGIN` -> `BEGIN`. */
function statementName(text: string): string {
  const match = /^\s*(\w+)(?:\s+(?:\w+\.)?"?(\w+)"?\s*\()?/.exec(text);
  if (!match) return '?';
  const keyword = (match[1] ?? '?').toUpperCase();
  return match[2] ? `${keyword} ${match[2]}()` : keyword;
}

/** Wraps every pooled client's `query` (the pool's own `query` goes through them) to count statements. */
function countStatements(
  pool: { on(event: 'connect', listener: (client: object) => void): unknown },
  count: StatementCounter,
) {
  pool.on('connect', (client) => {
    const target = client as { query: (...args: unknown[]) => unknown };
    const original = target.query;
    target.query = function counted(this: unknown, ...args: unknown[]) {
      const first = args[0];
      const config = typeof first === 'string' ? { text: first } : ((first ?? {}) as { text?: string; name?: string });
      const name = statementName(config.text ?? '');
      count(config.name ? `${name} [${config.name}]` : name);
      return original.apply(this, args);
    };
  });
}

const tmpDir = new URL('../.tmp/', import.meta.url).pathname;

async function importStore(specifier: string, options: object): Promise<SessionStore | string> {
  let module: Record<string, unknown>;
  try {
    module = (await import(specifier)) as Record<string, unknown>;
  } catch (error) {
    return `${specifier} cannot be imported yet (${(error as Error).message.split('\n')[0]})`;
  }
  const exported = Object.values(module).find((v) => typeof v === 'function' && /Store$/.test(v.name));
  if (!exported) return `${specifier} exports no store class yet`;
  try {
    return new (exported as new (o: object) => SessionStore)(options);
  } catch (error) {
    return `${specifier}: ${(error as Error).message}`;
  }
}

/** Opens a store of `kind`; resolves a reason string when it cannot run here. */
export async function openStore(
  kind: StoreKind,
  memoryOptions: object = {},
  onStatement: StatementCounter = () => {},
): Promise<OpenedStore | string> {
  if (kind === 'memory') {
    const store = new MemoryStore({ sweepIntervalSeconds: 0, ...memoryOptions });
    return { store, dispose: () => store.close() };
  }
  if (kind === 'sqlite') {
    mkdirSync(tmpDir, { recursive: true });
    const path = `${tmpDir}bench-${process.pid}-${randomUUID().slice(0, 8)}.db`;
    const store = await importStore('tsession/sqlite', { path });
    if (typeof store === 'string') return store;
    return {
      store,
      dispose: async () => {
        await store.close();
        for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
      },
    };
  }
  if (kind === 'postgres') {
    const schema = `tsession_bench_${randomUUID().slice(0, 8)}`;
    const store = await importStore('tsession/postgres', {
      connectionString: 'postgres://postgres@127.0.0.1:5432/test',
      schema,
    });
    if (typeof store === 'string') return store;
    const pool = (
      store as unknown as { pool: Parameters<typeof countStatements>[0] & { query(sql: string): Promise<unknown> } }
    ).pool;
    countStatements(pool, onStatement);
    try {
      await (store as unknown as { migrate(): Promise<void> }).migrate();
    } catch (error) {
      await store.close().catch(() => {});
      return `PostgreSQL on 127.0.0.1:5432 unavailable (${(error as Error).message.split('\n')[0]})`;
    }
    return {
      store,
      dispose: async () => {
        await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        await store.close();
      },
    };
  }
  // The bench's own client, named so the parent can tell its connection apart on the server (MONITOR).
  const { Redis } = await import('ioredis');
  const client = new Redis({
    host: '127.0.0.1',
    port: 6379,
    connectionName: `bench-${process.pid}`,
    lazyConnect: true,
    maxRetriesPerRequest: 1,
  });
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (error) {
    client.disconnect();
    return `Redis on 127.0.0.1:6379 unavailable (${(error as Error).message})`;
  }
  const store = await importStore('tsession/redis', { client, prefix: `tsession-bench-${randomUUID().slice(0, 8)}:` });
  if (typeof store === 'string') return store;
  return {
    store,
    dispose: async () => {
      for await (const s of store.scan(Date.now() / 1000)) await store.destroy(s.key);
      await store.close();
      await client.quit();
    },
  };
}
