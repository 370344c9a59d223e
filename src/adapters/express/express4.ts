/**
 * Express 4 support: a session error thrown inside an `async` handler reaches Express's
 * error path instead of killing the process.
 *
 * **The problem.** Express 4's router calls a handler as `fn(req, res, next)` inside a
 * `try`/`catch` and drops what it returns (`Layer.prototype.handle_request`, and
 * `handle_error` for error middleware). An `async` handler returns a promise, so when
 * `await req.tsession.get()` rejects (the store is down), nobody handles the rejection:
 * Node reports an `unhandledRejection` and, by default since Node 15, the process exits.
 * Express 5 (its `router` package) instead calls `next(err)` when the returned promise
 * rejects, so there the session's 503 and 409 already reach the error handler.
 *
 * **The design.** Lazy loading is what makes a session cheap, so the error cannot be
 * raised anywhere but inside the handler; what can change is who listens to the
 * handler's promise. The alternatives, and why they were not chosen:
 *
 * - an exported wrapper for every async route: forgetting it on one route is the crash
 *   again, on the day the store goes down, which is the day nobody is looking;
 * - a `get()` that never settles on Express 4 while the middleware calls `next(err)`
 *   itself: no crash, but an app's own `try`/`catch` around `get()` (a degraded page when
 *   the store is down) would silently stop working;
 * - walking the app's router stack to wrap each handler: misses routes added later and
 *   rewrites the app's own functions.
 *
 * So the first request that reaches `sessions()` on Express 4 installs, once per copy of
 * Express, a `handle_request`/`handle_error` that does what Express 4's does (same arity
 * checks, same `try`/`catch`), and also listens to a promise the handler returns. For a
 * request WITHOUT a tsession (another app of the process, a route before `sessions()`)
 * Express 4's original code runs, unchanged. For a request with one, a rejection with an
 * error tsession threw (`StoreUnavailableError` → 503, `ConflictError` → 409, ...) goes
 * to `next(err)`, as Express 5 would do. Any other rejection is left exactly as Express 4
 * leaves it (unhandled): tsession takes charge of its own errors, not of the app's.
 *
 * Calling `next` twice corrupts Express 4's routing, which is why Express 4 itself never
 * adopted promise handling (code that both calls `next(err)` and rejects). The rejection
 * is therefore forwarded only when the handler has not called `next` yet; otherwise the
 * request has moved on (or a wrapper such as express-async-errors already forwarded it)
 * and the rejection is considered handled.
 *
 * Not covered: `app.param()` callbacks, which Express 4 calls directly rather than through
 * a layer; an async one that reads the session should catch and call `next(err)` itself.
 *
 * @module
 */
import type { IncomingMessage } from 'node:http';
import { isSessionError } from '../../errors.js';
import { Session } from '../../session/session.js';

type Next = (error?: unknown) => void;
type Handler = (...args: unknown[]) => unknown;

/** The part of Express 4's `Layer.prototype` that is replaced. */
interface Express4Layer {
  handle: Handler;
  handle_request(req: IncomingMessage, res: unknown, next: Next): void;
  handle_error(error: unknown, req: IncomingMessage, res: unknown, next: Next): void;
}

/** Marks a `Layer.prototype` that already forwards session rejections. */
const PATCHED = Symbol.for('tsession.express4.forwardsRejections');
/** The apps already looked at, so Express 5 pays one WeakSet lookup per request and nothing else. */
const seen = new WeakSet<object>();

/**
 * Makes the app serving `req` forward session rejections of async handlers to
 * `next(err)` when it runs on Express 4 (see the module doc); does nothing on Express 5.
 * Called by `sessions()` on each request; idempotent.
 */
export function forwardSessionRejections(req: IncomingMessage): void {
  const app = (req as { app?: object }).app;
  if (app === undefined || seen.has(app)) return;
  seen.add(app);
  const proto = express4LayerPrototype(app);
  if (proto && !(PATCHED in proto)) patch(proto);
}

/**
 * Express 4's `Layer.prototype`, found through the app's own router (so it is the copy of
 * Express the app runs, not one tsession might resolve), or undefined on Express 5,
 * whose layers have `handleRequest` and handle promises themselves.
 */
function express4LayerPrototype(app: object): Express4Layer | undefined {
  const stack = (app as { _router?: { stack?: unknown[] } })._router?.stack;
  const layer = Array.isArray(stack) ? stack[0] : undefined;
  if (typeof layer !== 'object' || layer === null) return undefined;
  const proto = Object.getPrototypeOf(layer) as Partial<Express4Layer> | null;
  const looksLike4 = typeof proto?.handle_request === 'function' && typeof proto.handle_error === 'function';
  return looksLike4 ? (proto as Express4Layer) : undefined;
}

function patch(proto: Express4Layer): void {
  const originalRequest = proto.handle_request;
  const originalError = proto.handle_error;
  Object.defineProperty(proto, PATCHED, { value: true });
  proto.handle_request = function handle_request(this: Express4Layer, req, res, next) {
    if (!hasSession(req)) return originalRequest.call(this, req, res, next);
    const fn = this.handle;
    if (fn.length > 3) return next(); // not a request handler: Express 4's own rule
    invoke(next, (guarded) => fn(req, res, guarded));
  };
  proto.handle_error = function handle_error(this: Express4Layer, error, req, res, next) {
    if (!hasSession(req)) return originalError.call(this, error, req, res, next);
    const fn = this.handle;
    if (fn.length !== 4) return next(error); // not an error handler: Express 4's own rule
    invoke(next, (guarded) => fn(error, req, res, guarded));
  };
}

/** True for a request `sessions()` gave a session (it sets `req.tsession` before any later layer runs). */
function hasSession(req: IncomingMessage): boolean {
  return (req as { tsession?: unknown }).tsession instanceof Session;
}

/** Runs a handler as Express 4 does, and forwards a session rejection of its promise once. */
function invoke(next: Next, call: (next: Next) => unknown): void {
  let nextCalled = false;
  const guarded: Next = (...args) => {
    nextCalled = true;
    next(...args);
  };
  let returned: unknown;
  try {
    returned = call(guarded);
  } catch (error) {
    guarded(error);
    return;
  }
  if (!isThenable(returned)) return;
  returned.then(undefined, (error: unknown) => {
    if (nextCalled) return; // moved on, or already forwarded: a second next() would run the chain twice
    if (!isSessionError(error)) throw error; // the app's own error: unhandled, exactly as on Express 4
    guarded(error);
  });
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function';
}
