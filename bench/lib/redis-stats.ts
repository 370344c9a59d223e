/**
 * Counts what the benchmark's Redis cases send, on the Redis server itself. `INFO
 * commandstats` cannot serve: other programs share this Redis (tests running in
 * parallel), and Redis 7 counts the commands a script runs inside EVALSHA as well. So a
 * counting phase runs under MONITOR and keeps only the commands that arrived on the
 * server child's own connections (named `bench-<pid>`): a script's inner commands come
 * from `lua`, so an EVALSHA counts as one command, one round trip. Also `used_memory`.
 */
import { Redis } from 'ioredis';
import type { CommandSnapshot } from './load.js';

/** A connection to 127.0.0.1:6379 that snapshots the server's counters. */
export interface RedisCounters {
  /** Calls per command (lower case) so far, leaving out the INFO calls this makes itself (every client, scripts' inner commands included). */
  commands: CommandSnapshot;
  /** Commands (lower case) that arrive from the connections named `bench-<pid>` while `run` runs. */
  monitor(pid: number, run: () => Promise<void>): Promise<Record<string, number>>;
  /** The server's `used_memory`, bytes. */
  usedMemory(): Promise<number>;
  close(): Promise<void>;
}

/** Connects, or resolves undefined when Redis is not there (the Redis cases then skip themselves). */
export async function redisCounters(): Promise<RedisCounters | undefined> {
  const client = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true, maxRetriesPerRequest: 1 });
  client.on('error', () => {});
  try {
    await client.connect();
  } catch {
    client.disconnect();
    return undefined;
  }
  return {
    async commands() {
      const info = await client.info('commandstats');
      const out: Record<string, number> = {};
      for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
        const name = match[1] as string;
        if (name !== 'info') out[name] = Number(match[2]);
      }
      return out;
    },
    async monitor(pid, run) {
      const list = (await client.call('CLIENT', 'LIST')) as string;
      const addrs = new Set(
        list
          .split('\n')
          .filter((line) => line.includes(` name=bench-${pid} `))
          .map((line) => /addr=(\S+)/.exec(line)?.[1]),
      );
      const monitor = await client.duplicate().monitor();
      const counts: Record<string, number> = {};
      monitor.on('monitor', (_time: string, args: string[], source: string) => {
        if (!addrs.has(source)) return;
        const name = (args[0] ?? '?').toLowerCase();
        counts[name] = (counts[name] ?? 0) + 1;
      });
      try {
        await run();
        // Let the monitor stream catch up with the last commands.
        await new Promise((resolve) => setTimeout(resolve, 300));
      } finally {
        monitor.disconnect();
      }
      return counts;
    },
    async usedMemory() {
      const info = await client.info('memory');
      return Number(/^used_memory:(\d+)/m.exec(info)?.[1] ?? Number.NaN);
    },
    async close() {
      await client.quit();
    },
  };
}
