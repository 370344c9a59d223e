/**
 * Keys grouped into time slices by expiry, so that a sweep visits only the slices
 * that have ended (plus the one now running) and costs the expired keys, not all of
 * them: Zope 2's TransientObjectContainer buckets, without its timer thread.
 */
export class ExpiryBuckets {
  readonly #sliceSeconds: number;
  readonly #slices = new Map<number, Set<string>>();

  constructor(sliceSeconds: number) {
    this.#sliceSeconds = sliceSeconds;
  }

  /** Moves a key from the slice of one expiry to another's; `null` never expires and `undefined` means absent. */
  move(key: string, from: number | null | undefined, to: number | null | undefined): void {
    const fromSlice = this.#sliceOf(from);
    const toSlice = this.#sliceOf(to);
    if (fromSlice === toSlice) return;
    if (fromSlice !== undefined) {
      const keys = this.#slices.get(fromSlice);
      keys?.delete(key);
      if (keys?.size === 0) this.#slices.delete(fromSlice);
    }
    if (toSlice !== undefined) {
      let keys = this.#slices.get(toSlice);
      if (!keys) this.#slices.set(toSlice, (keys = new Set()));
      keys.add(key);
    }
  }

  /**
   * Removes and returns the keys whose slice may have ended by `now` and for which
   * `isExpired` holds; keys in the current slice that are still live stay.
   */
  takeExpired(now: number, isExpired: (key: string) => boolean): string[] {
    const current = Math.floor(now / this.#sliceSeconds);
    const taken: string[] = [];
    for (const [slice, keys] of this.#slices) {
      if (slice > current) continue;
      for (const key of keys) {
        if (slice < current || isExpired(key)) {
          keys.delete(key);
          taken.push(key);
        }
      }
      if (keys.size === 0) this.#slices.delete(slice);
    }
    return taken;
  }

  /** How many keys `takeExpired` would remove now, removing nothing: costs the slices that may have ended. */
  countExpired(now: number, isExpired: (key: string) => boolean): number {
    const current = Math.floor(now / this.#sliceSeconds);
    let expired = 0;
    for (const [slice, keys] of this.#slices) {
      if (slice < current) expired += keys.size;
      else if (slice === current) for (const key of keys) if (isExpired(key)) expired++;
    }
    return expired;
  }

  /**
   * The key that expires first (the least recently used, as expiry follows last
   * access), skipping `except`: the earliest slice's key with the smallest
   * `expiryOf`, so the cost is one slice, not every key.
   */
  soonest(except: ReadonlySet<string>, expiryOf: (key: string) => number | null | undefined): string | undefined {
    const ordered = [...this.#slices.keys()].sort((a, b) => a - b);
    for (const slice of ordered) {
      let best: string | undefined;
      let bestExpiry = Number.POSITIVE_INFINITY;
      for (const key of this.#slices.get(slice) ?? []) {
        const expiry = expiryOf(key) ?? Number.POSITIVE_INFINITY;
        if (!except.has(key) && (best === undefined || expiry < bestExpiry)) {
          best = key;
          bestExpiry = expiry;
        }
      }
      if (best !== undefined) return best;
    }
    return undefined;
  }

  #sliceOf(expiresAt: number | null | undefined): number | undefined {
    return expiresAt == null ? undefined : Math.floor(expiresAt / this.#sliceSeconds);
  }
}
