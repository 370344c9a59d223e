/** Starts a benchmark server in its own process and asks it for its stats over IPC. */
import { type ChildProcess, fork } from 'node:child_process';
import type { ChildMessage, ServerStats } from '../servers/harness.js';

/** A running server child. */
export interface ServerChild {
  readonly port: number;
  readonly pid: number;
  /** The server's CPU time, request and write counters, and memory, right now (after a full GC with `gc` if the child has --expose-gc). */
  stats(gc?: boolean): Promise<ServerStats>;
  /** Disconnects the child (it closes its store and exits) and waits for it to exit. */
  stop(): Promise<void>;
}

const serversDir = new URL('../servers/', import.meta.url).pathname;

/** The node flags every child runs with: the library from source, through tsx. */
export const SOURCE_FLAGS = ['--conditions=tsession-source', '--import', 'tsx'];

/**
 * Forks `bench/servers/<script>.ts` with `args`; resolves the child once it listens,
 * or a reason string when the case cannot run on this machine.
 */
export function startServer(
  script: string,
  args: string[] = [],
  nodeFlags: string[] = [],
): Promise<ServerChild | string> {
  const child = fork(`${serversDir}${script}.ts`, args, {
    execArgv: [...SOURCE_FLAGS, ...nodeFlags],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) =>
      reject(new Error(`${script} ${args.join(' ')} exited with ${code} before listening`));
    child.once('exit', onExit);
    child.once('message', (message: ChildMessage) => {
      child.off('exit', onExit);
      if (message.type === 'unavailable') {
        child.once('exit', () => resolve(message.reason));
        return;
      }
      if (message.type !== 'ready') return reject(new Error(`${script}: unexpected first message ${message.type}`));
      resolve(wrap(child, message.port));
    });
  });
}

function wrap(child: ChildProcess, port: number): ServerChild {
  return {
    port,
    pid: child.pid as number,
    stats: (gc = false) =>
      new Promise((resolve) => {
        const onMessage = (message: ChildMessage) => {
          if (message.type !== 'stats') return;
          child.off('message', onMessage);
          const { type: _type, ...stats } = message;
          resolve(stats);
        };
        child.on('message', onMessage);
        child.send({ type: 'stats', gc });
      }),
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.disconnect();
      }),
  };
}
