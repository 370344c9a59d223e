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

export type StoreKind = 'memory' | 'sqlite' | 'redis';

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
export async function openStore(kind: StoreKind, memoryOptions: object = {}): Promise<OpenedStore | string> {
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
  const store = await importStore('tsession/redis', {
    url: 'redis://127.0.0.1:6379',
    prefix: `tsession-bench-${randomUUID().slice(0, 8)}:`,
  });
  if (typeof store === 'string') return store;
  return {
    store,
    dispose: async () => {
      for await (const s of store.scan(Date.now() / 1000)) await store.destroy(s.key);
      await store.close();
    },
  };
}
