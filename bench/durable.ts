/**
 * The cost of durable commits (`waitReplicas`) per write, for docs/scaling.md: a
 * 3-master + 3-replica Cluster on loopback (started here), one store per mode on the
 * same Cluster, and `--writes` sequential commits per round and mode (a versioned
 * read-modify-write of one key, as a request's commit), rounds interleaved so drift of
 * the machine hits both modes alike. Reports per mode the median and p99 latency of a
 * commit and the commands each sent (from INFO commandstats on the masters). Timed: run
 * it on a quiet machine.
 *
 *   node --conditions=tsession-source --import tsx bench/durable.ts [--writes 2000] [--rounds 5] [--json]
 */
import { performance } from 'node:perf_hooks';
import { RedisStore } from 'tsession/redis';
import { askNode, startRedisCluster } from '../test/support/redis-cluster.js';
import { emit, numberFlag } from './lib/args.js';
import { median } from './lib/stats.js';

const WRITES = numberFlag('writes', 2_000);
const ROUNDS = numberFlag('rounds', 5);
const NOW = Date.now() / 1000;

const cluster = await startRedisCluster({ replicas: 1 });
try {
  const masters: number[] = [];
  for (const port of cluster.ports) {
    if ((await askNode(port, ['INFO', 'replication'])).includes('role:master')) masters.push(port);
  }
  const modes = {
    default: new RedisStore({ url: cluster.url, prefix: 'bench-async:' }),
    waitReplicas1: new RedisStore({
      url: cluster.url,
      prefix: 'bench-durable:',
      waitReplicas: 1,
      waitTimeoutSeconds: 1,
    }),
  };
  const latencies: Record<string, number[]> = { default: [], waitReplicas1: [] };
  const commands: Record<string, Record<string, number>> = { default: {}, waitReplicas1: {} };
  for (const store of Object.values(modes)) {
    await store.commit('k', { create: true, touch: { lastAccess: NOW, expiresAt: NOW + 3600 }, writes: [] }, NOW);
  }
  for (let round = -1; round < ROUNDS; round++) {
    for (const [mode, store] of Object.entries(modes)) {
      for (const port of masters) await askNode(port, ['CONFIG', 'RESETSTAT']);
      for (let i = 0; i < WRITES; i++) {
        const loaded = await store.load('k', NOW);
        const version = loaded?.entries[0]?.version ?? 0;
        const started = performance.now();
        await store.commit(
          'k',
          { create: false, writes: [{ pkg: 'b', key: 'n', value: String(i), expectVersion: version }] },
          NOW,
        );
        if (round >= 0) latencies[mode]?.push(performance.now() - started);
      }
      if (round < 0) continue; // warm-up
      for (const port of masters) {
        const info = await askNode(port, ['INFO', 'commandstats']);
        for (const m of info.matchAll(/^cmdstat_(evalsha|eval|wait|hgetall):calls=(\d+)/gm)) {
          const bucket = commands[mode] as Record<string, number>;
          bucket[m[1] as string] = (bucket[m[1] as string] ?? 0) + Number(m[2]);
        }
      }
    }
  }
  const total = WRITES * ROUNDS;
  const rows = Object.entries(latencies).map(([mode, ms]) => {
    const sorted = [...ms].sort((a, b) => a - b);
    const perWrite = Object.fromEntries(Object.entries(commands[mode] ?? {}).map(([c, n]) => [c, n / total]));
    return {
      mode,
      writes: total,
      medianMs: median(sorted),
      p99Ms: sorted[Math.floor(sorted.length * 0.99)] ?? 0,
      commandsPerWrite: perWrite,
    };
  });
  for (const store of Object.values(modes)) await store.close();
  emit(
    { rows },
    rows
      .map(
        (r) =>
          `${r.mode}: median ${r.medianMs.toFixed(3)} ms, p99 ${r.p99Ms.toFixed(3)} ms per commit; per write ${JSON.stringify(r.commandsPerWrite)}`,
      )
      .join('\n'),
  );
} finally {
  await cluster.stop();
}
