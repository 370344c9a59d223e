import type { FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';
import { SessionConfigError } from '../../errors.js';
import type { SessionManager } from '../../session/manager.js';
import type { Session as TSession } from '../../session/session.js';
import { withCookiePath } from '../shared/cookie-path.js';
import { fastifySessionRequest, states } from './state.js';

export { type RetryOptions, retryOnConflict } from './retry.js';

// Aliased: inside `declare module 'fastify'`, a bare `Session` would name @fastify/session's interface.
declare module 'fastify' {
  interface FastifyRequest {
    /**
     * This request's session, opened by tsession's plugin; nothing is read until it is
     * used. Named `tsession` rather than `session` so that its type never clashes with
     * `@fastify/session`, which claims `request.session`.
     */
    tsession: TSession;
  }
}

/** Options of the {@link sessions} plugin. */
export interface FastifySessionOptions {
  /** The app's {@link SessionManager}. Required. */
  manager: SessionManager;
  /**
   * Give the cookie the prefix of the scope the plugin is registered in (e.g. `/shop`),
   * so apps mounted side by side keep separate sessions. `__Host-` cookies keep `Path=/`.
   * @default false
   */
  pathFromMount?: boolean;
}

/**
 * The tsession Fastify plugin (Fastify 5). It opens the session in `onRequest` (no I/O
 * until it is used) as `request.tsession`, commits it in `onSend`, before the reply's
 * head goes out (so a redirect followed at once by the next request sees the data;
 * streams and `Content-Length` payloads alike), appends the id manager's headers, and
 * aborts in `onError`: a handler that throws writes nothing, nor does a 5xx reply.
 *
 * Like a `fastify-plugin` plugin it skips encapsulation: registered in a scope, it
 * serves that scope and its children. `Secure` follows Fastify's `trustProxy` option
 * (through `request.protocol`). A store that is down and a conflicting commit reach
 * Fastify's error handler with `statusCode` 503 and 409; opt a route into retrying with
 * {@link retryOnConflict}.
 *
 * @example
 * ```ts
 * import { sessions } from 'tsession/fastify';
 *
 * const app = Fastify({ trustProxy: true });
 * await app.register(sessions, { manager });
 * app.get('/visits', async (request) => {
 *   const visits = await request.tsession.get('app.visits');
 *   visits.set('n', (visits.get('n') ?? 0) + 1);
 *   return { n: visits.get('n') };
 * });
 * ```
 */
export const sessions: FastifyPluginCallback<FastifySessionOptions> = function tsessionPlugin(fastify, options, done) {
  const { manager, pathFromMount = false } = options ?? {};
  if (!manager || typeof manager.open !== 'function') {
    return done(new SessionConfigError('tsession/fastify: register the plugin with `{ manager }`, a SessionManager'));
  }
  const mountPath = pathFromMount ? fastify.prefix : '';
  fastify.decorateRequest('tsession', null as unknown as TSession);

  fastify.addHook('onRequest', function openSession(request, _reply, next) {
    const sessionRequest = fastifySessionRequest(request);
    states.set(request, { manager, request: sessionRequest });
    request.tsession = manager.open(sessionRequest);
    next();
  });

  fastify.addHook('onSend', async function commitSession(request: FastifyRequest, reply: FastifyReply, payload) {
    const session = request.tsession;
    if (!session) return payload;
    if (session.isOpen) {
      if (reply.statusCode >= 500) session.abort();
      else await session.commit();
    }
    for (const [name, value] of withCookiePath(session.responseHeaders, mountPath)) reply.header(name, value);
    return payload;
  });

  fastify.addHook('onError', async function abortSession(request) {
    if (request.tsession?.isOpen) request.tsession.abort();
  });
  done();
};

const plugin = sessions as unknown as Record<symbol, unknown>;
plugin[Symbol.for('skip-override')] = true;
plugin[Symbol.for('fastify.display-name')] = 'tsession';
plugin[Symbol.for('plugin-meta')] = { name: 'tsession', fastify: '5.x' };
