import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SessionManager } from 'tsession';
import { createAdminHandler } from 'tsession/admin';
import { fetchListener } from 'tsession/http';
import { webSessionRequest } from 'tsession/web';

/** Where the admin page is mounted. */
export const ADMIN_PATH = '/admin/';

/** Users allowed into the admin page: `$TSESSION_DEMO_ADMINS` (comma-separated), else `admin`. */
function adminUsers(env = process.env): Set<string> {
  return new Set((env.TSESSION_DEMO_ADMINS ?? 'admin').split(',').map((u) => u.trim()));
}

/**
 * The admin page, behind the demo's own login: `authorize` opens the caller's session
 * from the Web request and admits the users named as admins. It only reads (`peek`)
 * and aborts, so asking never creates a session.
 */
export function createDemoAdmin(manager: SessionManager): (req: IncomingMessage, res: ServerResponse) => void {
  const admins = adminUsers();
  const admin = createAdminHandler(manager, {
    basePath: ADMIN_PATH,
    async authorize(request) {
      const session = manager.open(webSessionRequest(request));
      try {
        const user = (await session.peek('demo.auth'))?.get('user');
        return user !== undefined && admins.has(user);
      } finally {
        session.abort();
      }
    },
  });
  return fetchListener(admin);
}
