import { withSessions } from '../../src/adapters/web/index.js';
import { adapterSuite } from './suite.js';
import { renderWeb, serveFetch } from './support/web.js';

adapterSuite('tsession/web', async (manager, routes, { trustProxy }) =>
  serveFetch(
    withSessions(
      manager,
      async (request, session) => {
        const path = new URL(request.url).pathname;
        const route = routes.find((r) => r.method === request.method && r.path === path);
        if (!route) return new Response('not found', { status: 404 });
        return renderWeb(await route.run(session));
      },
      { trustProxy, onError: () => {} },
    ),
  ),
);
