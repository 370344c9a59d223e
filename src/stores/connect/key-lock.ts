/**
 * Runs tasks one at a time per key, in arrival order, within this process: a promise
 * chain per key, dropped when it drains. A task over several keys takes their locks
 * in sorted order, so two such tasks cannot deadlock.
 */
export class KeyLock {
  readonly #tails = new Map<string, Promise<void>>();

  /** Runs `task` once every earlier task holding any of `keys` has settled. */
  async run<T>(keys: readonly string[], task: () => Promise<T>): Promise<T> {
    const releases: (() => void)[] = [];
    try {
      for (const key of [...new Set(keys)].sort()) releases.push(await this.#acquire(key));
      return await task();
    } finally {
      for (const release of releases) release();
    }
  }

  /** Keys with a task running or waiting (for tests and stats). */
  get size(): number {
    return this.#tails.size;
  }

  async #acquire(key: string): Promise<() => void> {
    const previous = this.#tails.get(key);
    let release!: () => void;
    const done = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous ? previous.then(() => done) : done;
    this.#tails.set(key, tail);
    await previous;
    return () => {
      release();
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    };
  }
}
