import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HeaderEntry } from '../../client-id/types.js';
import type { Session } from '../../session/session.js';

/**
 * What a held response's owner answers when the handler begins the response: the
 * headers to add at once, a promise of them (the response is held until it settles),
 * or undefined when there is nothing to add.
 */
export type Settlement = readonly HeaderEntry[] | Promise<readonly HeaderEntry[]> | undefined;

const METHODS = ['writeHead', 'write', 'end', 'flushHeaders'] as const;
type Method = (typeof METHODS)[number];
type Callable = (this: ServerResponse, ...args: unknown[]) => unknown;

/**
 * The hold a response is under, kept under this symbol on an object of the request's
 * that the adapter chooses: Express's `res.locals` (a dictionary already, so an entry
 * costs nothing; a property added to Express's `req` measured 1.2 KB of allocation per
 * request, a new hidden class and descriptor copy each time), else the request itself
 * (`res.req`). Never on the response, whose methods are looked up on every write.
 */
const HOLD = Symbol('tsession.hold');
/** Marks a prototype whose methods already consult {@link HOLD}. */
const INSTALLED = Symbol('tsession.holdInstalled');

/** Where a held response is: numbers, so the mode is a small integer field. */
const Mode = {
  /** The handler has not begun the response. */
  Waiting: 0,
  /** The settlement is pending: calls are queued. */
  Holding: 1,
  /** Released: calls pass through. */
  Open: 2,
  /** The settlement failed: calls pass through to the error answer, or are dropped once it ended. */
  Failed: 3,
} as const;
type Mode = (typeof Mode)[keyof typeof Mode];

type Held = { [HOLD]?: ResponseHold };
type HeldResponse = ServerResponse & { req?: Held; locals?: Held };

/**
 * Holds a node:http response until the session has committed. node:http sends the head
 * synchronously on the first `writeHead`/`write`/`end`, and a commit may be async, so the
 * first of those calls asks {@link settle}: headers it returns at once are added and the
 * call goes on in the same tick, untouched; a promise queues that call and those that
 * follow, and replays them in order once it resolves.
 *
 * When the settlement fails, the queued calls are dropped and {@link fail} answers
 * instead (at once, or later through a framework's error path). A held `write` returned
 * `false` and no `'drain'` follows a failure, so a writer that respects backpressure (a
 * pipe) stops; any call made once the answer has ended is dropped, so a late write never
 * becomes a write-after-end error.
 *
 * The methods are wrapped once per response prototype (node:http's `ServerResponse`,
 * Express's per-app `app.response`), not per response: the wrappers look the hold up on
 * the response and pass straight through when there is none. Per-response closures and
 * own-property patches were most of the adapters' per-request allocation, and the
 * garbage collection it caused was most of their cost.
 */
export abstract class ResponseHold {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** This request's session: a conflict retry replaces it. */
  session: Session;
  #mode: Mode = Mode.Waiting;
  #queue: [Callable, IArguments][] | undefined;

  /** `slot`: where the hold is kept, `res.locals` on Express, else `req` (see {@link HOLD}). */
  constructor(req: IncomingMessage, res: ServerResponse, session: Session, slot: object = req) {
    this.req = req;
    this.res = res;
    this.session = session;
    installHold(res);
    Object.defineProperty(slot, HOLD, { value: this, configurable: true });
  }

  /** The hold kept on `slot` (a request, or Express's `res.locals`), if an adapter holds its response. */
  static of(slot: object | undefined): ResponseHold | undefined {
    return (slot as Held | undefined)?.[HOLD];
  }

  /** Commits when the handler begins its response with `status`. */
  protected abstract settle(status: number): Settlement;

  /** Answers a failed settlement. */
  protected abstract fail(error: unknown): void;

  /** True once the handler began its response: from then on the outcome is the commit's. */
  hasStarted(): boolean {
    return this.#mode !== Mode.Waiting;
  }

  /**
   * Holds the response again after a failed settlement whose answer has not begun, so a
   * handler can run once more (conflict retry). Returns false when it is too late.
   */
  restart(): boolean {
    const res = this.res;
    if (this.#mode !== Mode.Failed || res.headersSent || res.writableEnded) return false;
    this.#mode = Mode.Waiting;
    return true;
  }

  /** @internal A wrapped method's call on this hold's response. */
  call(method: Method, original: Callable, args: IArguments): unknown {
    const res = this.res;
    switch (this.#mode) {
      case Mode.Open:
        return original.apply(res, args as unknown as unknown[]);
      case Mode.Failed:
        if (res.writableEnded || res.destroyed) return method === 'write' ? false : res;
        return original.apply(res, args as unknown as unknown[]);
      case Mode.Holding:
        (this.#queue ??= []).push([original, args]);
        return method === 'write' ? false : res;
      case Mode.Waiting:
        return this.#begin(method, original, args);
    }
  }

  #begin(method: Method, original: Callable, args: IArguments): unknown {
    const res = this.res;
    this.#mode = Mode.Holding;
    let settlement: Settlement;
    try {
      settlement = this.settle(method === 'writeHead' && typeof args[0] === 'number' ? args[0] : res.statusCode);
    } catch (error) {
      this.#failed(error);
      return method === 'write' ? false : res;
    }
    if (!(settlement instanceof Promise)) {
      this.#mode = Mode.Open;
      if (settlement !== undefined) applySessionHeaders(res, settlement);
      return original.apply(res, args as unknown as unknown[]);
    }
    (this.#queue ??= []).push([original, args]);
    settlement.then(
      (headers) => this.#replay(headers),
      (error: unknown) => this.#failed(error),
    );
    return method === 'write' ? false : res;
  }

  #replay(headers: readonly HeaderEntry[]): void {
    const res = this.res;
    this.#mode = Mode.Open;
    if (!res.headersSent) applySessionHeaders(res, headers);
    for (const [original, args] of this.#queue?.splice(0) ?? []) original.apply(res, args as unknown as unknown[]);
    // A writer that saw `false` from a held write waits for 'drain'.
    if (!res.writableEnded && !res.writableNeedDrain) process.nextTick(() => res.emit('drain'));
  }

  #failed(error: unknown): void {
    this.#mode = Mode.Failed;
    if (this.#queue) this.#queue.length = 0;
    this.fail(error);
  }
}

/**
 * Wraps the response methods of `res`'s prototype once, so they consult the response's
 * hold. Methods some middleware already replaced on this very response (as compression
 * does, saving what it found) are wrapped on the response too, in front of that patch,
 * so no call reaches the socket around the hold.
 */
function installHold(res: ServerResponse): void {
  const proto = Object.getPrototypeOf(res) as Record<Method, Callable> & { [INSTALLED]?: true };
  if (!proto[INSTALLED]) {
    for (const method of METHODS) wrap(proto, method);
    Object.defineProperty(proto, INSTALLED, { value: true });
  }
  for (const method of METHODS) if (Object.hasOwn(res, method)) wrap(res as never, method);
}

function wrap(target: Record<Method, Callable>, method: Method): void {
  const original = target[method];
  if (typeof original !== 'function') return;
  // `arguments`, not a rest parameter: the wrapper runs on every write of every
  // response, and V8 passes `arguments` on to `apply` without making an array.
  target[method] = function held(this: HeldResponse): unknown {
    const hold = this.locals?.[HOLD] ?? this.req?.[HOLD];
    // biome-ignore lint/complexity/noArguments: see above
    return hold === undefined ? original.apply(this, arguments as never) : hold.call(method, original, arguments);
  };
}

/** Adds a session's headers to a response whose head has not been sent. */
export function applySessionHeaders(res: ServerResponse, headers: readonly HeaderEntry[]): void {
  for (const [name, value] of headers) {
    if (name.toLowerCase() === 'set-cookie') res.appendHeader(name, value);
    else res.setHeader(name, value);
  }
}

/** Answers with a plain-text error, dropping whatever headers the handler had set. */
export function sendPlainError(res: ServerResponse, status: number, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  for (const name of res.getHeaderNames()) res.removeHeader(name);
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.end(message);
}
