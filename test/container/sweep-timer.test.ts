import { describe, expect, it } from 'vitest';
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
      await expect.poll(() => ended, { timeout: 2_000 }).toEqual([['old', 'expired']]);
    } finally {
      container.close();
    }
  });

  it('refuses a negative interval', () => {
    expect(
      () => new SessionDataContainer({ store: new MemoryStore({ sweepIntervalSeconds: 0 }), sweepIntervalSeconds: -1 }),
    ).toThrow(/sweepIntervalSeconds/);
  });
});
