import type { FastifyPluginCallback, FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify';
import type { HeaderEntry, SessionRequest } from '../../client-id/types.js';
import { SessionConfigError } from '../../errors.js';
import type { SessionManager } from '../../session/manager.js';
import { Session as TSession } from '../../session/session.js';
import { NodeSessionRequest, type RequestAccess } from '../shared/node-request.js';
import { committedOrRetry, type RetryOptions, retryAttempts } from '../shared/retry.js';

export type { RetryOptions } from '../shared/retry.js';

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
   * The path of the id's cookie: a path, or `'mount'` for the prefix of the scope the
   * plugin is registered in (e.g. `/shop`), so apps mounted side by side keep separate
   * sessions. `__Host-` cookies keep `Path=/`.
   * @default the id manager's own `path`
   */
  cookiePath?: string | 'mount';
}

/**
 * The tsession Fastify plugin (Fastify 5). It opens the session on first use of
 * `request.tsession` (no I/O until then, nothing at all for requests that never touch it),
 * commits it in `onSend`, before the reply's
 * head goes out (so a redirect followed at once by the next request sees the data;
 * streams and `Content-Length` payloads alike), appends the id manager's headers, and
 * aborts in `onError`: a handler that throws writes nothing, nor does a 5xx reply.
 *
 * Like a `fastify-plugin` plugin it skips encapsulation: registered in a scope, it
 * serves that scope and its children. `Secure` follows Fastify's `trustProxy` option
 * (through `request.protocol`). With the `form` conveyance, the id is read from
 * `request.body` as a form body parser (`@fastify/formbody`) left it. A store that is down and a conflicting commit reach
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
/** Where a request keeps its session once opened (a decorated property, so every request has the slot). */
const SESSION = Symbol('tsession.session');
type Held = { [SESSION]: TSession | null };

export const sessions: FastifyPluginCallback<FastifySessionOptions> = function tsessionPlugin(fastify, options, done) {
  const { manager, cookiePath } = options ?? {};
  if (!manager || typeof manager.open !== 'function') {
    return done(new SessionConfigError('tsession/fastify: register the plugin with `{ manager }`, a SessionManager'));
  }
  const path = cookiePath === 'mount' ? fastify.prefix : cookiePath;
  // Opened on first use, through a getter: a request that never touches its session costs
  // no hook and no allocation (an onRequest hook per request measured more than the open).
  fastify.decorateRequest(SESSION, null);
  fastify.decorateRequest('tsession', {
    getter(this: FastifyRequest & Held) {
      this[SESSION] ??= manager.open(fastifySessionRequest(this, path));
      return this[SESSION];
    },
    setter(this: FastifyRequest & Held, session: TSession) {
      this[SESSION] = session;
    },
  } as never);

  // A callback hook, not an async one: a request that changed nothing goes on at once.
  fastify.addHook('onSend', function commitSession(request: FastifyRequest, reply: FastifyReply, payload, next) {
    const session = (request as FastifyRequest & Held)[SESSION];
    if (!session) return next(null, payload);
    const addHeaders = (headers: readonly HeaderEntry[]) => {
      for (const [name, value] of headers) reply.header(name, value);
      next(null, payload);
    };
    if (!session.isOpen) return addHeaders(session.responseHeaders);
    if (reply.statusCode >= 500) {
      session.abort();
      return next(null, payload);
    }
    let headers: ReturnType<TSession['finish']>;
    try {
      headers = session.finish();
    } catch (error) {
      return next(error as Error);
    }
    if (headers instanceof Promise) headers.then(addHeaders, (error: Error) => next(error));
    else addHeaders(headers);
  });

  fastify.addHook('onError', async function abortSession(request) {
    const session = (request as FastifyRequest & Held)[SESSION];
    if (session?.isOpen) session.abort();
  });
  done();
};

const plugin = sessions as unknown as Record<symbol, unknown>;
plugin[Symbol.for('skip-override')] = true;
plugin[Symbol.for('fastify.display-name')] = 'tsession';
plugin[Symbol.for('plugin-meta')] = { name: 'tsession', fastify: '5.x' };

/**
 * Lets a route be run again when its commit loses a race (`ConflictError`), as Zope's
 * publisher retried conflicting requests: the wrapper commits right after the handler
 * returns its payload, and on a conflict puts back the reply's status and headers and
 * runs the handler with a fresh session that sees the winner's data. Use it only for
 * handlers that are safe to run twice. The handler must return its payload (a handler
 * that calls `reply.send()` itself is committed in `onSend` and cannot be retried).
 * When every attempt conflicts, Fastify's error handler answers 409.
 *
 * @throws SessionConfigError when `attempts` is not a positive integer
 * @example
 * ```ts
 * app.post('/counter', retryOnConflict(async (request) => {
 *   const counter = await request.tsession.get('app.counter');
 *   counter.set('n', (counter.get('n') ?? 0) + 1);
 *   return { n: counter.get('n') };
 * }));
 * ```
 */
export function retryOnConflict(handler: RouteHandlerMethod, options: RetryOptions = {}): RouteHandlerMethod {
  const attempts = retryAttempts(options);
  return async function retryingHandler(this: unknown, request: FastifyRequest, reply: FastifyReply) {
    if (!(request.tsession instanceof TSession)) {
      throw new SessionConfigError("retryOnConflict: register tsession's `sessions` plugin first");
    }
    const status = reply.statusCode;
    const headers = reply.getHeaders();
    for (let attempt = 1; ; attempt++) {
      const result: unknown = await (handler as (this: unknown, ...args: unknown[]) => unknown).call(
        this,
        request,
        reply,
      );
      if (reply.sent || (await committedOrRetry(request.tsession, attempt, attempts))) return result;
      for (const name of Object.keys(reply.getHeaders())) reply.removeHeader(name);
      reply.headers(headers);
      reply.code(status);
      request.tsession = request.tsession.reopen();
    }
  };
}

/** A {@link SessionRequest} over a Fastify request; `secure` follows Fastify's `trustProxy` through `request.protocol`. */
/** What only Fastify knows of a request: its protocol (`trustProxy`), and the body a parser such as `@fastify/formbody` left. */
const FASTIFY_ACCESS: RequestAccess<FastifyRequest> = {
  secure: (request) => request.protocol === 'https',
  body: (request) => request.body,
};

function fastifySessionRequest(request: FastifyRequest, cookiePath: string | undefined): SessionRequest {
  return new NodeSessionRequest(request.method, request.url, request.headers, request, FASTIFY_ACCESS, cookiePath);
}
