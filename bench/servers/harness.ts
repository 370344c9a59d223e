/**
 * What every benchmark server shares: it listens on an ephemeral loopback port, tells
 * the parent the port over IPC, counts the requests it handled and the store writes
 * it made, and answers `{ type: 'stats' }` messages with its own CPU time and memory,
 * so the parent can divide CPU time by requests without touching the HTTP path.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What a server reports about itself. */
export interface ServerStats {
  /** process.cpuUsage() user + system, in µs, since the process started. */
  cpuUs: number;
  /** HTTP requests handled so far. */
  requests: number;
  /** Store writes (commits, sets, touches) made so far. */
  writes: number;
  /** Store statements the server counted itself (PostgreSQL: by first keyword), so far. */
  commands: Record<string, number>;
  rss: number;
  heapUsed: number;
}

/** Messages a server child sends to the parent. */
export type ChildMessage =
  | { type: 'ready'; port: number }
  | { type: 'unavailable'; reason: string }
  | ({ type: 'stats' } & ServerStats);

let writes = 0;
const commands: Record<string, number> = {};

/** Counts one store statement under `name` (e.g. `SELECT`, `BEGIN`). */
export function countCommand(name: string): void {
  commands[name] = (commands[name] ?? 0) + 1;
}

/** Wraps `target[method]` so every call counts as one store write. */
export function countWrites<T extends object>(target: T, method: keyof T & string): void {
  const original = target[method] as unknown as (...args: unknown[]) => unknown;
  (target as Record<string, unknown>)[method] = function counted(this: unknown, ...args: unknown[]) {
    writes += 1;
    return original.apply(this, args);
  };
}

function send(message: ChildMessage): void {
  process.send?.(message);
}

/** Tells the parent this case cannot run here (e.g. a store that is not written yet), and exits. */
export function unavailable(reason: string): never {
  send({ type: 'unavailable', reason });
  process.exit(0);
}

/** Serves `listener` on 127.0.0.1 and an ephemeral port; runs `onClose` when the parent disconnects. */
export function serve(
  listener: (req: IncomingMessage, res: ServerResponse) => void,
  onClose: () => Promise<void> | void = () => {},
): void {
  let requests = 0;
  const server = createServer((req, res) => {
    requests += 1;
    listener(req, res);
  });
  server.keepAliveTimeout = 60_000;
  process.on('message', (message: { type?: string; gc?: boolean }) => {
    if (message?.type !== 'stats') return;
    // With --expose-gc the parent may ask for live memory only.
    if (message.gc) {
      const gc = (globalThis as { gc?: () => void }).gc;
      gc?.();
      gc?.();
    }
    const cpu = process.cpuUsage();
    const memory = process.memoryUsage();
    send({
      type: 'stats',
      cpuUs: cpu.user + cpu.system,
      requests,
      writes,
      commands: { ...commands },
      rss: memory.rss,
      heapUsed: memory.heapUsed,
    });
  });
  process.on('disconnect', () => {
    server.close();
    server.closeAllConnections();
    void Promise.resolve(onClose()).finally(() => process.exit(0));
  });
  server.listen(0, '127.0.0.1', () => {
    send({ type: 'ready', port: (server.address() as AddressInfo).port });
  });
}

/** Answers a request with a short text body, the same way in every case. */
export function text(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}
