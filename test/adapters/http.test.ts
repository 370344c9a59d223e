import { createServer, type IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { retryOnConflict, type SessionRequestListener, withSessions } from '../../src/adapters/http/index.js';
import { SessionConfigError } from '../../src/errors.js';
import { memoryManager } from '../helpers.js';
import { adapterSuite } from './suite.js';
import { listen, renderNode } from './support/node.js';

adapterSuite(
  'tsession/http',
  async (manager, routes, { trustProxy, form }) => {
    // node:http has no body parser: the app parses its form and tells the adapter where it is.
    const forms = new WeakMap<IncomingMessage, URLSearchParams>();
    const listener = withSessions(
      manager,
      async (req, res) => {
        const path = new URL(req.url ?? '/', 'http://x').pathname;
        if (form && path === '/echo') {
          await req.session.get('suite.counter');
          res.end(forms.get(req)?.get('note') ?? '');
          return;
        }
        const route = routes.find((r) => r.method === req.method && r.path === path);
        if (!route) {
          res.statusCode = 404;
          res.end('not found');
          return;
        }
        const run: SessionRequestListener = async (rq, rs) => renderNode(rs, await route.run(rq.session));
        await (route.retry ? retryOnConflict(run) : run)(req, res);
      },
      {
        trustProxy,
        onError: () => {},
        ...(form && { formField: (req, name) => forms.get(req)?.get(name) ?? undefined }),
      },
    );
    const server = createServer(async (req, res) => {
      if (form && req.method === 'POST') {
        let body = '';
        for await (const chunk of req) body += chunk;
        forms.set(req, new URLSearchParams(body));
      }
      listener(req, res);
    });
    return listen(server);
  },
  { retry: true },
);

describe('tsession/http and the form conveyance', () => {
  it('refuses, at construction, an id manager that reads forms without a formField reader', () => {
    const { manager } = memoryManager({ cookie: { conveyances: ['cookie', 'form'] } });
    expect(() => withSessions(manager, (_req, res) => res.end())).toThrow(SessionConfigError);
    expect(() => withSessions(manager, (_req, res) => res.end(), { formField: () => undefined })).not.toThrow();
  });
});
