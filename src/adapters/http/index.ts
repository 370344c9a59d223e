import type { IncomingMessage, ServerResponse } from 'node:http';
import { ConflictError, SessionConfigError } from '../../errors.js';
import type { SessionManager } from '../../session/manager.js';
import type { Session } from '../../session/session.js';
import { errorAnswer, logServerErrors } from '../shared/errors.js';
import { ResponseHold, type Settlement, sendPlainError } from '../shared/hold-response.js';
import { nodeRequestAccess, nodeSessionRequest, type TrustProxy } from '../shared/node-request.js';
import { restoreResponse, snapshotResponse } from '../shared/node-response.js';
import { type RetryOptions, retryAttempts } from '../shared/retry.js';

export type { TrustProxy } from '../shared/node-request.js';
export type { RetryOptions } from '../shared/retry.js';

/** A node:http request with its session. */
export interface SessionIncomingMessage extends IncomingMessage {
  /** This request's session; nothing is read until it is used. */
  session: Session;
}

/** A node:http handler that gets the session on `req.session`. */
export type SessionRequestListener = (req: SessionIncomingMessage, res: ServerResponse) => unknown;

/** Options of {@link withSessions}. */
export interface HttpSessionOptions {
  /** Believe `X-Forwarded-Proto` (for the cookie's Secure default) from these peers. @default false */
  trustProxy?: TrustProxy;
  /** Told about every error the adapter answers for (handler errors and failed commits). @default console.error for 5xx */
  onError?: (error: unknown, req: IncomingMessage) => void;
  /**
   * For the `form` conveyance: reads a field of the form body your app parsed. node:http
   * has no body parser, and reading the body here would consume it before the handler, so
   * the app says where its parsed body is. Required when the id manager conveys ids in forms.
   * @default undefined
   */
  formField?: (req: IncomingMessage, name: string) => string | undefined;
}

/**
 * One request's exchange: its session, the hold on its response, and the retry a
 * `retryOnConflict` handler installed. One object per request, its own hold, so the
 * adapter allocates no closures per request.
 */
class HttpExchange extends ResponseHold {
  declare readonly req: SessionIncomingMessage;
  readonly onError: (error: unknown, req: IncomingMessage) => void;
  /** Set by `retryOnConflict`: runs the handler again; false when no attempt is left. */
  retry: (() => boolean) | undefined;

  constructor(req: SessionIncomingMessage, res: ServerResponse, onError: HttpExchange['onError']) {
    super(req, res, req.session);
    this.onError = onError;
  }

  protected settle(): Settlement {
    const session = this.session;
    return session.isOpen ? session.finish() : undefined;
  }

  /** Runs the handler again with a fresh session (a conflict retry). */
  reopen(): void {
    this.session = this.session.reopen();
    this.req.session = this.session;
  }

  protected fail(error: unknown): void {
    if (error instanceof ConflictError && this.retry?.()) return;
    this.onError(error, this.req);
    const { status, message } = errorAnswer(error);
    sendPlainError(this.res, status, message);
  }

  /** Answers a handler's error: abort, then the error response. */
  handlerFailed(error: unknown): void {
    // Once the response has begun, the commit decides its outcome; the error is only reported.
    if (this.hasStarted()) {
      this.onError(error, this.req);
      return;
    }
    if (this.session.isOpen) this.session.abort();
    this.fail(error);
  }

  /** Runs `handler` and answers whatever it throws or rejects with. */
  run(handler: SessionRequestListener): void {
    let result: unknown;
    try {
      result = handler(this.req, this.res);
    } catch (error) {
      this.handlerFailed(error);
      return;
    }
    if (result instanceof Promise) result.catch((error: unknown) => this.handlerFailed(error));
  }
}

/**
 * Wraps a node:http handler so that `req.session` is this request's session, its
 * changes are committed before the response's head goes out (so a redirect followed
 * at once by the next request sees them), and nothing is written when the handler
 * throws. Typed errors become responses: 409 for a conflict, 503 for a store that is
 * down. A request that changed nothing is answered in the same tick, untouched.
 *
 * @example
 * ```ts
 * http.createServer(withSessions(manager, async (req, res) => {
 *   const counter = await req.session.get('demo.counter');
 *   counter.set('n', (counter.get('n') ?? 0) + 1);
 *   res.end(`visits: ${counter.get('n')}`);
 * })).listen(3000);
 * ```
 */
export function withSessions(
  manager: SessionManager,
  handler: SessionRequestListener,
  options: HttpSessionOptions = {},
): (req: IncomingMessage, res: ServerResponse) => void {
  const onError = options.onError ?? logServerErrors;
  if (manager.clientIds.conveyances?.includes('form') && !options.formField) {
    throw new SessionConfigError(
      'tsession/http: the id manager reads ids from form fields, but node:http has no body parser: pass `formField: (req, name) => ...` reading the body your app parsed',
    );
  }
  const access = nodeRequestAccess(options);
  return function sessionRequestListener(req, res) {
    const sessionReq = req as SessionIncomingMessage;
    sessionReq.session = manager.open(nodeSessionRequest(req, access));
    new HttpExchange(sessionReq, res, onError).run(handler);
  };
}

/**
 * Lets a handler be run again when its commit loses a race (`ConflictError`), as Zope's
 * publisher retried conflicting requests: the response it began is dropped (status and
 * headers put back as they were) and it runs again with a fresh `req.session` that sees
 * the winner's data. Use it inside {@link withSessions}, for handlers that are safe to
 * run twice. When every attempt conflicts, the answer is 409.
 *
 * @throws SessionConfigError when `attempts` is not a positive integer
 * @example
 * ```ts
 * const counter = retryOnConflict(async (req, res) => {
 *   const data = await req.session.get('app.counter');
 *   data.set('n', (data.get('n') ?? 0) + 1);
 *   res.end(String(data.get('n')));
 * });
 * http.createServer(withSessions(manager, (req, res) => (req.url === '/counter' ? counter(req, res) : other(req, res))));
 * ```
 */
export function retryOnConflict(handler: SessionRequestListener, options: RetryOptions = {}): SessionRequestListener {
  const attempts = retryAttempts(options);
  return function retryingListener(req: SessionIncomingMessage, res: ServerResponse): unknown {
    const exchange = ResponseHold.of(req);
    if (!(exchange instanceof HttpExchange))
      throw new SessionConfigError('retryOnConflict: call it inside the handler given to `withSessions`');
    const before = snapshotResponse(res);
    let left = attempts - 1;
    exchange.retry = () => {
      if (left <= 0 || !exchange.restart()) return false;
      left--;
      restoreResponse(res, before);
      exchange.reopen();
      exchange.run(handler);
      return true;
    };
    exchange.run(handler);
    return undefined;
  };
}

export { fetchListener } from './fetch-listener.js';
