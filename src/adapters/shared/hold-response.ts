import type { ServerResponse } from 'node:http';
import type { HeaderEntry } from '../../client-id/types.js';

/** The state of a held response. */
export interface HeldResponse {
  /** True once the handler began its response: from then on the outcome is the commit's. */
  readonly started: boolean;
}

const METHODS = ['writeHead', 'write', 'end', 'flushHeaders'] as const;
type Method = (typeof METHODS)[number];
type Callable = (...args: unknown[]) => unknown;

/**
 * Holds a node:http response until the session has committed. node:http sends the
 * head synchronously on the first `writeHead`/`write`/`end`, and a commit is async, so
 * the first of those calls starts `settle` and is queued with any that follow; when
 * `settle` resolves, its headers are added and the calls replayed in order. When it
 * rejects, `fail` answers instead and the handler's later writes are dropped.
 *
 * `settle` returns undefined when there is nothing to commit: the response then goes
 * out at once, untouched.
 */
export function holdResponse(
  res: ServerResponse,
  settle: () => Promise<readonly HeaderEntry[]> | undefined,
  fail: (error: unknown) => void,
): HeldResponse {
  const queue: [Method, unknown[]][] = [];
  let started = false;
  const target = res as unknown as Record<Method, Callable>;

  const hold = (method: Method) =>
    function held(...args: unknown[]): unknown {
      if (started) {
        queue.push([method, args]);
        return method === 'write' ? false : res;
      }
      started = true;
      let pending: Promise<readonly HeaderEntry[]> | undefined;
      try {
        pending = settle();
      } catch (error) {
        failed(error);
        return method === 'write' ? true : res;
      }
      if (pending === undefined) {
        release([]);
        return target[method](...args);
      }
      queue.push([method, args]);
      pending.then(replay, failed);
      return method === 'write' ? false : res;
    };

  for (const method of METHODS) target[method] = hold(method);
  return {
    get started() {
      return started;
    },
  };

  function release(headers: readonly HeaderEntry[]): void {
    for (const method of METHODS) delete (target as Partial<Record<Method, Callable>>)[method];
    if (!res.headersSent) applySessionHeaders(res, headers);
  }

  function replay(headers: readonly HeaderEntry[]): void {
    release(headers);
    for (const [method, args] of queue.splice(0)) target[method](...args);
    // A writer that saw `false` from a held write waits for 'drain'.
    if (!res.writableEnded && !res.writableNeedDrain) process.nextTick(() => res.emit('drain'));
  }

  function failed(error: unknown): void {
    release([]);
    queue.length = 0;
    fail(error);
    for (const method of METHODS) target[method] = method === 'write' ? () => true : () => res;
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
