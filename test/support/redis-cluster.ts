/**
 * Private Redis servers for tests, started from the `redis-server` binary on free
 * loopback ports with a temp dir each: a 3-master Redis Cluster, and single standalone
 * servers (for exact `INFO commandstats` counts, and for stopping and restarting a
 * server under a store). Every server is a child process killed by `stop()`.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';

const run = promisify(execFile);

/** One redis-server child process. */
export interface RedisServer {
  readonly port: number;
  readonly url: string;
  readonly dir: string;
  /** Kills the process (SIGKILL unless `graceful`) and waits for it to exit. */
  kill(graceful?: boolean): Promise<void>;
  /** Starts the server again on the same port and dir (after `kill`). */
  restart(): Promise<void>;
  /** Kills it and removes its dir. */
  stop(): Promise<void>;
}

/** A running Redis Cluster: 3 masters, and a replica of each when started with `replicas: 1`. */
export interface RedisCluster {
  readonly ports: readonly number[];
  /** `redis+cluster://127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3` */
  readonly url: string;
  readonly servers: readonly RedisServer[];
  stop(): Promise<void>;
}

/** Options of {@link startRedisCluster}. */
export interface RedisClusterOptions {
  /** Replicas per master (0 or 1). @default 0 */
  readonly replicas?: 0 | 1;
  /** `cluster-node-timeout`: how long a master may be silent before its replica takes over. @default 5000 */
  readonly nodeTimeoutMs?: number;
}

/** Resolves true when nothing listens on `port` on 127.0.0.1. */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A free port in 20000-29999 whose Cluster bus port (+10000) is free too. */
async function freePort(taken: Set<number>): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 10_000);
    if (taken.has(port)) continue;
    if ((await portFree(port)) && (await portFree(port + 10_000))) {
      taken.add(port);
      return port;
    }
  }
  throw new Error('redis test servers: no free port pair found');
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`redis test servers: timed out waiting for ${what}`);
}

/** Sends one command to the server on `port` over a connection of its own; resolves the reply as text. */
export async function askNode(port: number, command: string[] = ['PING']): Promise<string> {
  const client = new Redis({
    port,
    host: '127.0.0.1',
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    return String(await client.call(command[0] as string, ...command.slice(1)));
  } finally {
    client.disconnect();
  }
}

/**
 * Every redis-server these helpers started and have not seen exit: killed when the test
 * process exits, so a test that fails before its cleanup (or a worker torn down early)
 * never leaves servers running behind it.
 */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Starts one redis-server on a free port; `args` are extra server arguments (or made from the port). */
export async function startRedisServer(
  args: readonly string[] | ((port: number) => readonly string[]) = [],
  taken = new Set<number>(),
): Promise<RedisServer> {
  const port = await freePort(taken);
  const extra = typeof args === 'function' ? args(port) : args;
  const dir = await mkdtemp(join(tmpdir(), `tsession-redis-${port}-`));
  let child: ChildProcess | undefined;
  const start = async () => {
    const argv = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'];
    child = spawn('redis-server', [...argv, '--daemonize', 'no', ...extra], { stdio: 'ignore' });
    const spawned = child;
    running.add(spawned);
    spawned.once('exit', () => running.delete(spawned));
    const failed = new Promise<never>((_, reject) => {
      spawned.once('error', reject);
      spawned.once('exit', (code) => reject(new Error(`redis-server on ${port} exited with ${code}`)));
    });
    failed.catch(() => {});
    await Promise.race([waitFor(`redis-server on ${port}`, async () => (await askNode(port)) === 'PONG'), failed]);
  };
  const kill = async (graceful = false) => {
    const current = child;
    child = undefined;
    if (!current || current.exitCode !== null || current.signalCode !== null) return;
    const exited = new Promise((resolve) => current.once('exit', resolve));
    current.kill(graceful ? 'SIGTERM' : 'SIGKILL');
    await exited;
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    kill,
    restart: start,
    async stop() {
      await kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Starts three cluster-enabled servers (six with `replicas: 1`), joins them with
 * `redis-cli --cluster create` and waits until every node reports `cluster_state:ok`
 * and, with replicas, until every replica's link to its master is up.
 */
export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisCluster> {
  const { replicas = 0, nodeTimeoutMs = 5000 } = options;
  const taken = new Set<number>();
  const servers: RedisServer[] = [];
  const stop = async () => {
    await Promise.all(servers.map((s) => s.stop()));
  };
  try {
    for (let i = 0; i < 3 * (1 + replicas); i++) {
      const conf = (port: number) => [
        ...['--cluster-enabled', 'yes', '--cluster-node-timeout', String(nodeTimeoutMs)],
        // a replica takes over however long ago it last heard from its master
        ...(replicas > 0 ? ['--cluster-replica-validity-factor', '0'] : []),
        ...['--cluster-config-file', `nodes-${port}.conf`], // inside the node's own --dir
      ];
      servers.push(await startRedisServer(conf, taken));
    }
    const addresses = servers.map((s) => `127.0.0.1:${s.port}`);
    await run(
      'redis-cli',
      ['--cluster', 'create', ...addresses, '--cluster-replicas', String(replicas), '--cluster-yes'],
      {
        timeout: 30_000,
      },
    );
    for (const server of servers) {
      await waitFor(`cluster_state:ok on ${server.port}`, async () =>
        (await askNode(server.port, ['CLUSTER', 'INFO'])).includes('cluster_state:ok'),
      );
      await waitFor(
        `replication link on ${server.port}`,
        async () => {
          const info = await askNode(server.port, ['INFO', 'replication']);
          return info.includes('role:master') || info.includes('master_link_status:up');
        },
        60_000,
      );
    }
  } catch (error) {
    await stop();
    throw error;
  }
  const ports = servers.map((s) => s.port);
  return { ports, url: `redis+cluster://${ports.map((p) => `127.0.0.1:${p}`).join(',')}`, servers, stop };
}

/** Calls per command since the last `CONFIG RESETSTAT`, from `INFO commandstats` (lower-case names). */
export async function commandStats(client: Redis): Promise<Record<string, number>> {
  const info = await client.info('commandstats');
  const stats: Record<string, number> = {};
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    stats[match[1] as string] = Number(match[2]);
  }
  return stats;
}

/** Deletes every key starting with `prefix` on one node (SCAN + DEL). */
export async function deletePrefix(node: Redis, prefix: string): Promise<void> {
  const pattern = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
  let cursor = '0';
  do {
    const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    const pipeline = node.pipeline();
    for (const key of keys) pipeline.del(key); // one key per DEL: a Cluster node refuses cross-slot commands
    await pipeline.exec();
  } while (cursor !== '0');
}

/**
 * Records, through MONITOR, the commands clients send to one server: each is one
 * request on the wire (commands a Lua script runs inside the server are left out).
 * `during(task)` resolves the lower-case names sent while `task` ran.
 */
export async function monitorCommands(url: string) {
  const watcher = new Redis(url);
  const probe = new Redis(url);
  const monitor = await watcher.monitor();
  for (const client of [watcher, probe, monitor]) client.on('error', () => {}); // servers may be killed under them
  let seen: string[] = [];
  let marker = '';
  let markerSeen: (() => void) | undefined;
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    if (args[0]?.toLowerCase() === 'echo' && args[1] === marker) markerSeen?.();
    else if (source !== 'lua') seen.push(String(args[0]).toLowerCase());
  });
  /** Resolves once every command sent before it was called has been seen. */
  const flushed = async () => {
    marker = `flush-${Math.random()}`;
    const arrived = new Promise<void>((resolve) => (markerSeen = resolve));
    await probe.echo(marker);
    await arrived;
  };
  const recorder = {
    /** Starts recording afresh. */
    async begin(): Promise<void> {
      await flushed();
      seen = [];
    },
    /** Stops recording; resolves what was sent since `begin`. */
    async end(): Promise<string[]> {
      await flushed();
      const sent = seen;
      seen = [];
      return sent;
    },
    async during(task: () => Promise<unknown>): Promise<string[]> {
      await recorder.begin();
      await task();
      return recorder.end();
    },
    close() {
      monitor.disconnect();
      watcher.disconnect();
      probe.disconnect();
    },
  };
  return recorder;
}

/** One node as `CLUSTER NODES` lists it. */
export interface ClusterNode {
  readonly id: string;
  readonly port: number;
  readonly flags: readonly string[];
  readonly master: boolean;
  /** The id of the master a replica follows; `-` for a master. */
  readonly masterId: string;
  /** The slot ranges a master serves (`0-5460`, `7000`). */
  readonly slots: readonly string[];
}

/** `CLUSTER NODES` as the server on `port` sees the Cluster. */
export async function clusterNodes(port: number): Promise<ClusterNode[]> {
  return (await askNode(port, ['CLUSTER', 'NODES']))
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [id = '', address = '', flagList = '', masterId = '', , , , , ...slots] = line.split(' ');
      const flags = flagList.split(',');
      return {
        id,
        port: Number(/:(\d+)@/.exec(address)?.[1]),
        flags,
        master: flags.includes('master'),
        masterId,
        slots,
      };
    });
}

/** True when the ranges (`0-5460`, `7000`) include `slot`; migration markers (`[7000->-id]`) are not ranges. */
const serves = (slots: readonly string[], slot: number) =>
  slots.some((range) => {
    if (range.startsWith('[')) return false;
    const [low, high = low] = range.split('-').map(Number);
    return slot >= (low as number) && slot <= (high as number);
  });

/**
 * Moves hash slot `slot` with its keys to another master, as `redis-cli --cluster reshard`
 * does: IMPORTING on the target, MIGRATING on the source, MIGRATE of every key, then
 * SETSLOT NODE on the target, the source and the third master. Resolves, once every node
 * of the Cluster sees the target as the slot's owner, the ports of the old and new owner.
 * A client that read the slot map before keeps sending the slot's commands to the old owner,
 * which answers MOVED. `midway` runs once the keys are migrated but the slot is not yet
 * reassigned, while the source answers ASK for the keys it no longer holds.
 */
export async function moveSlot(
  cluster: RedisCluster,
  slot: number,
  options: { midway?: (ports: { from: number; to: number }) => Promise<void> } = {},
): Promise<{ from: number; to: number }> {
  const anyPort = cluster.ports[0] as number;
  const masters = (await clusterNodes(anyPort)).filter((n) => n.master);
  const from = masters.find((n) => serves(n.slots, slot));
  const to = masters.find((n) => n !== from);
  const third = masters.find((n) => n !== from && n !== to);
  if (!from || !to || !third) throw new Error(`moveSlot: no owner of slot ${slot} among ${masters.length} masters`);
  const s = String(slot);
  await askNode(to.port, ['CLUSTER', 'SETSLOT', s, 'IMPORTING', from.id]);
  await askNode(from.port, ['CLUSTER', 'SETSLOT', s, 'MIGRATING', to.id]);
  const source = new Redis({ port: from.port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 });
  try {
    await source.connect();
    for (;;) {
      const keys = (await source.call('CLUSTER', 'GETKEYSINSLOT', s, '100')) as string[];
      if (keys.length === 0) break;
      await source.call('MIGRATE', '127.0.0.1', String(to.port), '', '0', '5000', 'KEYS', ...keys);
    }
  } finally {
    source.disconnect();
  }
  // Every key is on the target, and the source still owns the slot: it answers ASK for them.
  await options.midway?.({ from: from.port, to: to.port });
  for (const node of [to, from, third]) await askNode(node.port, ['CLUSTER', 'SETSLOT', s, 'NODE', to.id]);
  await waitFor(`slot ${slot} on ${to.port} as every node sees it`, async () => {
    for (const port of cluster.ports) {
      const owner = (await clusterNodes(port)).find((n) => n.id === to.id);
      if (!owner || !serves(owner.slots, slot)) return false;
    }
    return true;
  });
  return { from: from.port, to: to.port };
}
