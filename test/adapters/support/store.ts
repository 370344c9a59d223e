/**
 * A store for the adapter suite: the reference MemoryStore behind our own SessionStore
 * interface, counting the calls that reach it, and able to act as a store that is down.
 */
import { StoreUnavailableError } from '../../../src/errors.js';
import { MemoryStore } from '../../../src/stores/memory/index.js';
import type {
  CommitResult,
  ScannedSession,
  SessionDelta,
  SessionStore,
  StoreCapabilities,
  StoredSession,
  SweepOptions,
} from '../../../src/stores/types.js';

export class CountingStore implements SessionStore {
  readonly inner = new MemoryStore({ sweepIntervalSeconds: 0 });
  readonly capabilities: StoreCapabilities = this.inner.capabilities;
  loads = 0;
  /** The loads that came through `load` rather than `loadNow`. */
  promisedLoads = 0;
  commits = 0;
  destroys = 0;
  /** While true, every call fails with StoreUnavailableError, as a store that cannot be reached. */
  down = false;
  /**
   * Milliseconds each commit takes, as a store across a network would: an adapter that
   * let the response go before its commit finished would be seen by the next request.
   */
  commitLatencyMs = 0;
  /**
   * A load that answers synchronously, as the MemoryStore behind it has (`SessionStore.loadNow`);
   * absent with `{ syncLoads: false }`: a store read through promises only, as Redis or PostgreSQL.
   */
  readonly loadNow?: (key: string, now: number) => StoredSession | undefined;

  constructor(options: { syncLoads?: boolean } = {}) {
    if (options.syncLoads === false) return;
    this.loadNow = (key, now) => {
      this.loads++;
      this.#check();
      return this.inner.loadNow(key, now);
    };
  }

  reset(): void {
    this.loads = this.promisedLoads = this.commits = this.destroys = 0;
    this.down = false;
    this.commitLatencyMs = 0;
  }

  /** Calls that reached the store. */
  get calls(): number {
    return this.loads + this.commits + this.destroys;
  }

  #check(): void {
    if (this.down) throw new StoreUnavailableError('the test store is down');
  }

  async load(key: string, now: number): Promise<StoredSession | undefined> {
    this.loads++;
    this.promisedLoads++;
    this.#check();
    return this.inner.load(key, now);
  }

  async commit(key: string, delta: SessionDelta, now: number): Promise<CommitResult> {
    this.commits++;
    this.#check();
    if (this.commitLatencyMs > 0) await new Promise((resolve) => setTimeout(resolve, this.commitLatencyMs));
    return this.inner.commit(key, delta, now);
  }

  async destroy(key: string): Promise<boolean> {
    this.destroys++;
    this.#check();
    return this.inner.destroy(key);
  }

  sweep(now: number, options?: SweepOptions): Promise<number> {
    return this.inner.sweep(now, options);
  }

  scan(now: number): AsyncIterable<ScannedSession> {
    return this.inner.scan(now);
  }

  count(now: number): Promise<number> {
    return this.inner.count(now);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
