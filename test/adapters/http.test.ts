import { createServer } from 'node:http';
import { retryOnConflict, type SessionRequestListener, withSessions } from '../../src/adapters/http/index.js';
import { adapterSuite } from './suite.js';
import { listen, renderNode } from './support/node.js';

adapterSuite(
  'tsession/http',
  async (manager, routes, { trustProxy }) => {
    const server = createServer(
      withSessions(
        manager,
        async (req, res) => {
          const path = new URL(req.url ?? '/', 'http://x').pathname;
          const route = routes.find((r) => r.method === req.method && r.path === path);
          if (!route) {
            res.statusCode = 404;
            res.end('not found');
            return;
          }
          const run: SessionRequestListener = async (rq, rs) => renderNode(rs, await route.run(rq.session));
          await (route.retry ? retryOnConflict(run) : run)(req, res);
        },
        { trustProxy, onError: () => {} },
      ),
    );
    return listen(server);
  },
  { retry: true },
);
