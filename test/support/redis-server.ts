/**
 * A dedicated `redis-server` child process for fault tests: its own loopback port and
 * temp dir, persistence on (append-only file, fsync on every write, no RDB snapshots),
 * so a test can stop it cleanly, kill it, pause it and start it again on the same port
 * and dir without touching the shared server on 6379.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** One redis-server process (and its successors after a restart) on a fixed port and dir. */
export interface DedicatedRedis {
  readonly port: number;
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  readonly dir: string;
  /** The pid of the running process, or undefined while it is down. */
  readonly pid: number | undefined;
  /** Starts the server (again) on the same port and dir; resolves once PING answers PONG (AOF loaded). */
  start(): Promise<void>;
  /** A clean shutdown: SIGTERM (after SIGCONT if paused), then waits for the process to exit. */
  stop(): Promise<void>;
  /** A crash: SIGKILL, then waits for the process to exit. */
  kill(): Promise<void>;
  /** Freezes the process (SIGSTOP): connections stay open, nothing answers. */
  pause(): void;
  /** Unfreezes it (SIGCONT). */
  resume(): void;
  /** Kills the process if it runs and removes its dir. */
  cleanup(): Promise<void>;
}

/**
 * Resolves true when the `redis-server` binary runs. When it does not: throws under CI
 * (`CI=true`), and otherwise warns loudly and resolves false so the caller can skip;
 * the same semantics as `serviceAvailable('redis')`.
 */
export function redisBinaryAvailable(): Promise<boolean> {
  return new Promise((resolve, reject) => {
    execFile('redis-server', ['--version'], { timeout: 10_000 }, (error) => {
      if (!error) return resolve(true);
      const message = `the redis-server binary does not run (${error.message}); install it with: apt-get install redis-server`;
      if (process.env.CI === 'true') return reject(new Error(`CI needs ${message}`));
      console.warn(`\n!!! SKIPPING dedicated redis-server TESTS: ${message}\n`);
      resolve(false);
    });
  });
}

/**
 * A port the OS calls free right now on 127.0.0.1 (listen on 0, read it, close), at
 * 40000 or above: the Cluster test servers take 20000-29999 and their bus ports 30000-39999.
 */
async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
    if (port >= 40_000) return port;
  }
}

/**
 * Sends one inline command and resolves the reply received once `complete(reply)`
 * holds, or undefined on refusal or silence.
 */
function ask(port: number, command: string, complete: (reply: string) => boolean): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    let reply = '';
    const done = (answer: string | undefined) => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(1_000, () => done(undefined));
    socket.once('error', () => done(undefined));
    socket.once('connect', () => socket.write(`${command}\r\n`));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (complete(reply)) done(reply);
    });
  });
}

/** True when the server on `port` answers PING with PONG (not `-LOADING`, not silence). */
async function pong(port: number): Promise<boolean> {
  return (await ask(port, 'PING', (r) => r.includes('\r\n')))?.startsWith('+PONG') ?? false;
}

/** The `process_id` the server on `port` reports, to tell our child from a server that took its port. */
async function serverPid(port: number): Promise<number | undefined> {
  const info = await ask(port, 'INFO server', (r) => /process_id:\d+\r\n/.test(r));
  const pid = info && /process_id:(\d+)/.exec(info)?.[1];
  return pid ? Number(pid) : undefined;
}

/** Every child still running, killed if the test process exits without cleaning up. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/**
 * Starts a dedicated redis-server on a free loopback port with a fresh temp dir
 * (`--appendonly yes --appendfsync always --save ""`). If the port is taken between
 * choosing and binding it, another port is tried.
 */
export async function startDedicatedRedis(extraArgs: readonly string[] = []): Promise<DedicatedRedis> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const dir = await mkdtemp(join(tmpdir(), `tsession-faults-redis-${port}-`));
    const redis = dedicated(port, dir, extraArgs);
    try {
      await redis.start();
      return redis;
    } catch (error) {
      await redis.cleanup();
      if (attempt >= 5) throw error;
    }
  }
}

function dedicated(port: number, dir: string, extraArgs: readonly string[]): DedicatedRedis {
  let child: ChildProcess | undefined;
  let paused = false;
  const args = [
    ...['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--daemonize', 'no'],
    ...['--appendonly', 'yes', '--appendfsync', 'always', '--save', ''],
    ...['--logfile', 'redis.log'],
    ...extraArgs,
  ];
  const signal = async (name: 'SIGTERM' | 'SIGKILL') => {
    const current = child;
    child = undefined;
    if (!current) return;
    if (paused && name === 'SIGTERM') current.kill('SIGCONT'); // a stopped process would never handle SIGTERM
    paused = false;
    const gone = exited(current);
    current.kill(name);
    await gone;
    live.delete(current);
  };
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    get pid() {
      return child?.pid;
    },
    async start() {
      if (child) throw new Error(`redis-server on ${port} is already running`);
      const spawned = spawn('redis-server', args, { stdio: 'ignore' });
      child = spawned;
      live.add(spawned);
      let failure: Error | undefined;
      spawned.once('error', (error) => (failure = error));
      spawned.once('exit', (code, sig) => (failure ??= new Error(`redis-server on ${port} exited (${code ?? sig})`)));
      const deadline = Date.now() + 30_000;
      while (!(await pong(port))) {
        if (failure || Date.now() > deadline) {
          const log = await readFile(join(dir, 'redis.log'), 'utf8').catch(() => '');
          await signal('SIGKILL');
          throw new Error(`${failure?.message ?? `redis-server on ${port} did not answer PING`}\n${log.slice(-2_000)}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      const answering = await serverPid(port);
      if (answering !== spawned.pid) {
        await signal('SIGKILL');
        throw new Error(`port ${port} is answered by redis-server pid ${answering}, not by ours (${spawned.pid})`);
      }
    },
    stop: () => signal('SIGTERM'),
    kill: () => signal('SIGKILL'),
    pause() {
      if (!child) throw new Error(`redis-server on ${port} is not running`);
      child.kill('SIGSTOP');
      paused = true;
    },
    resume() {
      if (!child) throw new Error(`redis-server on ${port} is not running`);
      child.kill('SIGCONT');
      paused = false;
    },
    async cleanup() {
      await signal('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    },
  };
}
