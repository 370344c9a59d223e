import { retryOnConflict, type SessionFetchHandler, withSessions } from '../../src/adapters/web/index.js';
import { adapterSuite } from './suite.js';
import { renderWeb, serveFetch } from './support/web.js';

adapterSuite(
  'tsession/web',
  async (manager, routes, { trustProxy, form }) =>
    serveFetch(
      withSessions(
        manager,
        async (request, session) => {
          const path = new URL(request.url).pathname;
          if (form && path === '/echo') {
            await session.get('suite.counter');
            return new Response(String((await request.formData()).get('note') ?? ''));
          }
          const route = routes.find((r) => r.method === request.method && r.path === path);
          if (!route) return new Response('not found', { status: 404 });
          const run: SessionFetchHandler = async (_request, current) => renderWeb(await route.run(current));
          return (route.retry ? retryOnConflict(run) : run)(request, session);
        },
        { trustProxy, onError: () => {} },
      ),
    ),
  { retry: true },
);
