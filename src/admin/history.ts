import type { SessionDataContainer } from '../container/container.js';

/** One sample of the admin page's chart. */
export interface Sample {
  /** Seconds since the epoch. */
  readonly time: number;
  /** Live sessions, or null when the store cannot count them. */
  readonly live: number | null;
  /** Store calls per second since the previous sample. */
  readonly opsPerSecond: number;
}

/**
 * Samples of live sessions and store operations per second, taken when the page asks
 * (no timer of its own), at most one per `minIntervalSeconds`, the last `size` kept.
 */
export class History {
  readonly #samples: Sample[] = [];
  readonly #size: number;
  readonly #minInterval: number;
  #lastOps = 0;

  constructor(size = 120, minIntervalSeconds = 2) {
    this.#size = size;
    this.#minInterval = minIntervalSeconds;
  }

  /** Adds a sample unless the last one is too recent; returns every sample kept. */
  async sample(container: SessionDataContainer, now: number): Promise<readonly Sample[]> {
    const last = this.#samples.at(-1);
    if (last && now - last.time < this.#minInterval) return this.#samples;
    const live = (await container.store.count?.(now)) ?? null;
    const ops = Object.values(container.operations).reduce((a, b) => a + b, 0);
    const opsPerSecond = last ? Math.max(0, ops - this.#lastOps) / (now - last.time) : 0;
    this.#lastOps = ops;
    this.#samples.push({ time: now, live, opsPerSecond });
    if (this.#samples.length > this.#size) this.#samples.shift();
    return this.#samples;
  }
}
