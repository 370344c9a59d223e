import { describe, expect, it } from 'vitest';
import { DEFAULT_SWEEP_INTERVAL } from '../../src/container/container.js';
import { SessionDataContainer } from '../../src/index.js';
import { MemoryStore } from '../../src/stores/memory/index.js';
import { manualClock } from '../helpers.js';

describe('SPEC 27/29: timed sweeps run through the container', () => {
  it('sweeps on its own timer and reports each expired session to onEnd', async () => {
    const clock = manualClock(1_000);
    const ended: [string, string][] = [];
    const container = new SessionDataContainer({
      store: new MemoryStore({ sweepIntervalSeconds: 0 }),
      clock,
      timeout: 60,
      resolution: 10,
      sweepIntervalSeconds: 0.02,
      onEnd: (key, reason) => ended.push([key, reason]),
    });
    try {
      const touch = container.touchFor(undefined);
      await container.commit('old', { create: true, writes: [{ pkg: 'p', key: 'k', value: '1' }], touch });
      clock.advance(71);
      // A poll waits only as long as needed; the long limit is for a busy machine, where a 20 ms timer can run late.
      await expect.poll(() => ended, { timeout: 15_000 }).toEqual([['old', 'expired']]);
    } finally {
      container.close();
    }
  });

  it('refuses a negative interval', () => {
    expect(
      () => new SessionDataContainer({ store: new MemoryStore({ sweepIntervalSeconds: 0 }), sweepIntervalSeconds: -1 }),
    ).toThrow(/sweepIntervalSeconds/);
  });

  it('is the only owner of sweeping: 60 s by default over a store that does not expire by itself, 0 over one that does', () => {
    const memory = new SessionDataContainer({ store: new MemoryStore() });
    const selfExpiring = new MemoryStore();
    Object.defineProperty(selfExpiring, 'capabilities', {
      value: { ...selfExpiring.capabilities, selfExpiring: true },
    });
    const redisLike = new SessionDataContainer({ store: selfExpiring });
    const chosen = new SessionDataContainer({ store: new MemoryStore(), sweepIntervalSeconds: 5 });
    try {
      expect([memory.sweepIntervalSeconds, redisLike.sweepIntervalSeconds, chosen.sweepIntervalSeconds]).toEqual([
        DEFAULT_SWEEP_INTERVAL,
        0,
        5,
      ]);
      expect(DEFAULT_SWEEP_INTERVAL).toBe(60);
    } finally {
      for (const c of [memory, redisLike, chosen]) c.close();
    }
  });

  it('MemoryStore keeps no timer of its own: an interval there is refused, pointing at the container', () => {
    expect(() => new MemoryStore({ sweepIntervalSeconds: 60 as 0 })).toThrow(/container's `sweepIntervalSeconds`/);
  });
});
