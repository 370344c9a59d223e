/**
 * The demo server (examples/demo/server.ts, SQLite under a data dir) as a child process
 * a test can start, and kill with SIGKILL mid-load, and start again on the same data.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface DemoProcess {
  /** e.g. `http://127.0.0.1:41234` */
  readonly url: string;
  readonly pid: number;
  /** Milliseconds from spawn to the `Listening on` line. */
  readonly startMs: number;
  /** SIGKILL, resolved when the process is gone. */
  kill(): Promise<void>;
  /** What the process wrote to stderr. */
  stderr(): string;
}

/** Spawns the demo on a free port with its data in `dataDir`; resolves once it listens. */
export async function startDemo(dataDir: string): Promise<DemoProcess> {
  const started = performance.now();
  const env: NodeJS.ProcessEnv = { ...process.env, TSESSION_DEMO_DATA: dataDir, PORT: '0' };
  delete env.SESSION_SECRET; // the demo keeps its generated secret in the data dir, across restarts
  delete env.NODE_OPTIONS;
  const child: ChildProcess = spawn(
    process.execPath,
    ['--conditions=tsession-source', '--import', 'tsx', 'examples/demo/server.ts'],
    { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => reject(new Error(`the demo did not listen within 30 s: ${stderr}`)), 30_000);
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const match = /Listening on http:\/\/[^:]+:(\d+)\//.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the demo exited (${code ?? signal}) before listening: ${stderr}`));
    });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid as number,
    startMs: performance.now() - started,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    stderr: () => stderr,
  };
}
