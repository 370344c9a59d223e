import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fetchListener } from '../adapters/http/index.js';
import { createAdminHandler } from '../admin/handler.js';
import { SessionDataContainer } from '../container/container.js';
import type { SessionStore } from '../stores/types.js';

/** A running standalone admin server. */
export interface AdminServer {
  readonly server: Server;
  readonly url: string;
  /** The password, or a note that it came from the environment. */
  readonly passwordShown: string;
}

/**
 * Serves the admin page for one store behind HTTP basic auth (user `admin`), on
 * loopback by default. Without a password a random one is made and shown once.
 */
export async function serveAdmin(
  store: SessionStore,
  options: { port: number; host: string; password?: string | undefined },
): Promise<AdminServer> {
  const password = options.password ?? randomBytes(12).toString('base64url');
  const expected = Buffer.from(`Basic ${Buffer.from(`admin:${password}`).toString('base64')}`);
  const admin = createAdminHandler(new SessionDataContainer({ store }), {
    authorize: (request) => {
      const given = Buffer.from(request.headers.get('authorization') ?? '');
      return given.length === expected.length && timingSafeEqual(given, expected);
    },
  });
  const server = createServer(
    fetchListener(async (request) => {
      const response = await admin(request);
      if (response.status === 403 && !request.headers.has('authorization')) {
        return new Response('Authentication required', {
          status: 401,
          headers: { 'WWW-Authenticate': 'Basic realm="tsession admin"' },
        });
      }
      return response;
    }),
  );
  await new Promise<void>((resolve) => server.listen(options.port, options.host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://${options.host}:${port}/`,
    passwordShown:
      options.password === undefined ? JSON.stringify(password) : '(from --password or TSESSION_ADMIN_PASSWORD)',
  };
}
