/**
 * What the torture's clients were acknowledged, by store key, and the final check of a
 * store against it. Keys move by regenerate (login: A → B, B starting with what the
 * login carried) and die by regenerate or invalidate (logout).
 */
import { expect } from 'vitest';
import { jsonCodec } from '../../src/codec/codec.js';
import type { SessionStore } from '../../src/index.js';

export interface Carried {
  readonly n: number;
  readonly own: Record<string, number>;
}

interface KeyLedger {
  /** What the key started with: what its login carried, or nothing for a key made by a first write. */
  base: Carried | undefined;
  /** The counter values acknowledged increments under this key reported. */
  readonly incs: number[];
  /** The last acknowledged blind write of each slot under this key. */
  readonly puts: Map<string, number>;
  movedTo: string | undefined;
  loggedOut: boolean;
}

export interface LedgerCheck {
  readonly keys: number;
  readonly live: number;
  readonly dead: number;
  /** Sum of the stored counters of the live keys. */
  readonly storedTotal: number;
  /** Acknowledged increments missing from the key a regenerate moved the data to (the race documented in the test). */
  readonly lostToRegenerate: number;
  /** Acknowledged slot writes missing from the key a regenerate moved the data to. */
  readonly slotsLostToRegenerate: number;
}

export class Ledger {
  readonly #keys = new Map<string, KeyLedger>();

  #key(key: string): KeyLedger {
    let entry = this.#keys.get(key);
    if (!entry) {
      entry = { base: undefined, incs: [], puts: new Map(), movedTo: undefined, loggedOut: false };
      this.#keys.set(key, entry);
    }
    return entry;
  }

  inc(key: string, n: number): void {
    this.#key(key).incs.push(n);
  }

  put(key: string, slot: string, value: number): void {
    this.#key(key).puts.set(slot, value);
  }

  /** An acknowledged login: `from` (the request's key, when the store knew it) moved to `to` with `carried`. */
  login(from: string | undefined, to: string, carried: Carried): void {
    const target = this.#key(to);
    expect(target.base, `key ${to} issued twice`).toBeUndefined();
    target.base = carried;
    if (from !== undefined) this.#key(from).movedTo = to;
  }

  logout(key: string): void {
    this.#key(key).loggedOut = true;
  }

  /** Compares every key the clients were acknowledged anything under with what `store` holds now. */
  async check(store: SessionStore, now: number): Promise<LedgerCheck> {
    let live = 0;
    let storedTotal = 0;
    let lostToRegenerate = 0;
    let slotsLostToRegenerate = 0;
    for (const [key, entry] of this.#keys) {
      const base = entry.base ?? { n: 0, own: {} };
      // every increment under a key saw a different value: base+1 .. base+count, no gap, no repeat
      const sorted = [...entry.incs].sort((a, b) => a - b);
      expect(sorted, `increments under ${key}`).toEqual(sorted.map((_, i) => base.n + i + 1));
      const expectedN = base.n + entry.incs.length;
      const expectedOwn: Record<string, number> = { ...base.own, ...Object.fromEntries(entry.puts) };
      const record = await store.load(key, now);
      if (entry.movedTo !== undefined || entry.loggedOut) {
        expect(record, `${key} ${entry.loggedOut ? 'logged out' : 'regenerated'} but still stored`).toBeUndefined();
        if (entry.movedTo !== undefined) {
          const carried = this.#keys.get(entry.movedTo)?.base as Carried;
          expect(carried.n, `${key} carried more than it was acknowledged`).toBeLessThanOrEqual(expectedN);
          lostToRegenerate += expectedN - carried.n;
          for (const [slot, value] of Object.entries(expectedOwn))
            if (carried.own[slot] !== value) slotsLostToRegenerate++;
        }
        continue;
      }
      live++;
      expect(record, `${key} acknowledged but not stored`).toBeDefined();
      const values = new Map(
        (record?.entries ?? []).map((e) => [`${e.pkg}/${e.key}`, jsonCodec.decode(e.value)] as const),
      );
      const n = (values.get('torture.counter/n') as number | undefined) ?? 0;
      expect(n, `counter of ${key}`).toBe(expectedN);
      storedTotal += n;
      const own = Object.fromEntries(
        [...values].filter(([name]) => name.startsWith('torture.own/')).map(([name, v]) => [name.slice(12), v]),
      );
      expect(own, `slots of ${key}`).toEqual(expectedOwn);
    }
    return {
      keys: this.#keys.size,
      live,
      dead: this.#keys.size - live,
      storedTotal,
      lostToRegenerate,
      slotsLostToRegenerate,
    };
  }
}
