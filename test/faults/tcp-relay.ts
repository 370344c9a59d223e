/**
 * A TCP relay on a loopback port to a real server, which a test can freeze, thaw, cut
 * and restore, to fault a store without touching the server itself:
 * - `freeze()`: like a paused (SIGSTOPped) server. Connections stay open, new ones are
 *   accepted, nothing is forwarded either way; bytes wait in the socket buffers.
 * - `thaw()`: forwards again whatever waited, and everything after.
 * - `cut()`: like a crashed server. Every connection is reset; new ones are refused.
 * - `restore()`: listens again on the same port.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export interface TcpRelay {
  readonly port: number;
  freeze(): void;
  thaw(): void;
  cut(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpRelay(target: { host: string; port: number }): Promise<TcpRelay> {
  const pairs = new Set<readonly [Socket, Socket]>();
  let frozen = false;
  let server: Server | undefined;
  let port = 0;

  const link = ([client, upstream]: readonly [Socket, Socket]) => {
    client.pipe(upstream);
    upstream.pipe(client);
  };
  const unlink = ([client, upstream]: readonly [Socket, Socket]) => {
    client.unpipe(upstream);
    upstream.unpipe(client);
    client.pause();
    upstream.pause();
  };
  const accept = (client: Socket) => {
    const upstream = createConnection(target);
    const pair = [client, upstream] as const;
    pairs.add(pair);
    const drop = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    for (const socket of pair) {
      socket.on('error', drop);
      socket.on('close', drop);
    }
    if (frozen) unlink(pair);
    else link(pair);
  };
  const listen = async () => {
    const created = createServer(accept);
    await new Promise<void>((resolve, reject) => {
      created.once('error', reject);
      created.listen(port, '127.0.0.1', () => resolve());
    });
    port = (created.address() as { port: number }).port;
    server = created;
  };
  const cut = async () => {
    const current = server;
    server = undefined;
    for (const [client, upstream] of pairs) {
      client.resetAndDestroy();
      upstream.destroy();
    }
    pairs.clear();
    if (current) await new Promise((resolve) => current.close(resolve));
  };
  await listen();
  return {
    get port() {
      return port;
    },
    freeze() {
      frozen = true;
      for (const pair of pairs) unlink(pair);
    },
    thaw() {
      frozen = false;
      for (const pair of pairs) link(pair);
    },
    cut,
    async restore() {
      frozen = false;
      if (!server) await listen();
    },
    close: cut,
  };
}
