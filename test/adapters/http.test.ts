import { createServer } from 'node:http';
import { withSessions } from '../../src/adapters/http/index.js';
import { adapterSuite } from './suite.js';
import { listen, renderNode } from './support/node.js';

adapterSuite('tsession/http', async (manager, routes, { trustProxy }) => {
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
        await renderNode(res, await route.run(req.session));
      },
      { trustProxy, onError: () => {} },
    ),
  );
  return listen(server);
});
