import type { ServerResponse } from 'node:http';
import type { HeaderEntry } from '../../client-id/types.js';

/** The state of a held response. */
export interface HeldResponse {
  /** True once the handler began its response: from then on the outcome is the commit's. */
  hasStarted(): boolean;
  /**
   * Holds the response again after a failed settle whose answer has not begun, so a
   * handler can run once more (conflict retry). Returns false when it is too late.
   */
  restart(): boolean;
}

/**
 * Commits the session when the handler begins its response. `status` is the status the
 * response is going out with (e.g. to abort instead of committing an error page).
 * Resolves the headers to add, or returns undefined when there is nothing to do.
 */
export type SettleResponse = (status: number) => Promise<readonly HeaderEntry[]> | undefined;

const METHODS = ['writeHead', 'write', 'end', 'flushHeaders'] as const;
type Method = (typeof METHODS)[number];
type Callable = (...args: unknown[]) => unknown;
type Mode = 'waiting' | 'holding' | 'open' | 'failed';

/**
 * Holds a node:http response until the session has committed. node:http sends the
 * head synchronously on the first `writeHead`/`write`/`end`, and a commit is async, so
 * the first of those calls starts `settle` and is queued with any that follow; when
 * `settle` resolves, its headers are added and the calls replayed in order.
 *
 * When `settle` rejects, the queued calls are dropped and `fail` answers instead (at
 * once, or later through a framework's error path). A held `write` returned `false`
 * and no `'drain'` follows a failure, so a writer that respects backpressure (a pipe)
 * stops; any call made once the answer has ended is dropped, so a late write never
 * becomes a write-after-end error.
 *
 * `settle` returns undefined when there is nothing to commit: the response then goes
 * out at once, untouched. The wrappers stay installed and pass calls through once
 * released, so patches other middleware put on the same methods are never undone.
 */
export function holdResponse(
  res: ServerResponse,
  settle: SettleResponse,
  fail: (error: unknown) => void,
): HeldResponse {
  const queue: [Method, unknown[]][] = [];
  let mode: Mode = 'waiting';
  const target = res as unknown as Record<Method, Callable>;
  const originals = {} as Record<Method, Callable>;

  const hold = (method: Method) =>
    function held(...args: unknown[]): unknown {
      switch (mode) {
        case 'open':
          return originals[method].apply(res, args);
        case 'failed':
          if (res.writableEnded || res.destroyed) return method === 'write' ? false : res;
          return originals[method].apply(res, args);
        case 'holding':
          queue.push([method, args]);
          return method === 'write' ? false : res;
        case 'waiting':
          return begin(method, args);
      }
    };

  for (const method of METHODS) {
    originals[method] = target[method];
    target[method] = hold(method);
  }
  return {
    // Methods, not a getter: an object literal with an accessor gets a V8 map of its own,
    // and one per request showed up as old-generation GC and doubled the adapter's CPU.
    hasStarted() {
      return mode !== 'waiting';
    },
    restart() {
      if (mode !== 'failed' || res.headersSent || res.writableEnded) return false;
      mode = 'waiting';
      return true;
    },
  };

  function begin(method: Method, args: unknown[]): unknown {
    mode = 'holding';
    let pending: Promise<readonly HeaderEntry[]> | undefined;
    try {
      const status = method === 'writeHead' && typeof args[0] === 'number' ? args[0] : res.statusCode;
      pending = settle(status);
    } catch (error) {
      failed(error);
      return method === 'write' ? false : res;
    }
    if (pending === undefined) {
      mode = 'open';
      return originals[method].apply(res, args);
    }
    queue.push([method, args]);
    pending.then(replay, failed);
    return method === 'write' ? false : res;
  }

  function replay(headers: readonly HeaderEntry[]): void {
    mode = 'open';
    if (!res.headersSent) applySessionHeaders(res, headers);
    for (const [method, args] of queue.splice(0)) originals[method].apply(res, args);
    // A writer that saw `false` from a held write waits for 'drain'.
    if (!res.writableEnded && !res.writableNeedDrain) process.nextTick(() => res.emit('drain'));
  }

  function failed(error: unknown): void {
    mode = 'failed';
    queue.length = 0;
    fail(error);
  }
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
