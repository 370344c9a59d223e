/**
 * An adapter's per-request state, kept under a symbol of its own on the request (or
 * context) object, so it never meets user data. Not a WeakMap: one ephemeron per
 * request measurably slowed garbage collection (the node:http read path went from about
 * 29 to 50 µs of CPU per request).
 */
export class RequestState<K extends object, S> {
  readonly #key: symbol;

  constructor(name: string) {
    this.#key = Symbol(name);
  }

  get(target: K): S | undefined {
    return (target as Record<symbol, S | undefined>)[this.#key];
  }

  set(target: K, state: S): void {
    (target as Record<symbol, S>)[this.#key] = state;
  }
}
