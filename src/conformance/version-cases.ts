import { strict as assert } from 'node:assert';
import type { SessionDelta, SessionStore } from '../stores/types.js';
import { create, type Harness, loadLive, put, putIf, rejectsConflict, T0 } from './harness.js';

/**
 * Versions come from a per-record commit sequence, so a version never repeats for a
 * key: a commit whose expectation was read before the key was deleted (or cleared) and
 * written again must fail, never overwrite the newer value (the ABA lost update).
 */
export function versionCases({ t, store, caps }: Harness): void {
  if (!caps.perKeyVersions) return;

  t.describe('versions never repeat', () => {
    t.it('a key deleted then written again: a commit expecting the version read before fails (ABA)', async () => {
      await create(store(), 'k1', [put('x', '"first"')]);
      const seen = versionOf(await loadLive(store(), 'k1'), 'x');
      await store().commit('k1', { create: false, writes: [put('x', undefined)] }, T0 + 1);
      await store().commit('k1', { create: false, writes: [put('x', '"C"')] }, T0 + 2);
      await rejectsConflict(
        store().commit('k1', { create: false, writes: [putIf('x', '"A"', seen)] }, T0 + 3),
        'version',
        ['app.data › x'],
      );
      assert.equal(storedValue(await loadLive(store(), 'k1', T0 + 3), 'x'), '"C"');
    });

    t.it('a key cleared then written again: a commit expecting the version read before fails (ABA)', async () => {
      await create(store(), 'k1', [put('x', '"first"'), put('y', '"y1"')]);
      const seen = versionOf(await loadLive(store(), 'k1'), 'x');
      await store().commit('k1', { create: false, clear: true, writes: [] }, T0 + 1);
      await store().commit('k1', { create: false, writes: [put('x', '"C"')] }, T0 + 2);
      await rejectsConflict(
        store().commit('k1', { create: false, writes: [putIf('x', '"A"', seen)] }, T0 + 3),
        'version',
        ['app.data › x'],
      );
      // The same when the clear and the rewrite are one commit.
      const now = versionOf(await loadLive(store(), 'k1', T0 + 3), 'x');
      await store().commit('k1', { create: false, clear: true, writes: [put('x', '"D"')] }, T0 + 4);
      await rejectsConflict(
        store().commit('k1', { create: false, writes: [putIf('x', '"A"', now)] }, T0 + 5),
        'version',
        ['app.data › x'],
      );
      assert.equal(storedValue(await loadLive(store(), 'k1', T0 + 5), 'x'), '"D"');
    });

    t.it('the versions a key takes strictly increase over commits, across deletes and clears', async () => {
      await create(store(), 'k1', [put('x', '"1"')]);
      const steps = [
        [put('y', '"y"')],
        [put('x', '"2"')],
        [put('x', undefined)],
        [put('y', '"y2"')],
        [put('x', '"3"')],
        'clear',
        [put('x', '"4"')],
        [put('x', undefined), put('y', undefined)],
        [put('x', '"5"')],
      ] as const;
      const seen = [versionOf(await loadLive(store(), 'k1'), 'x')];
      for (const [i, step] of steps.entries()) {
        const now = T0 + i + 1;
        const delta: SessionDelta =
          step === 'clear' ? { create: false, clear: true, writes: [] } : { create: false, writes: step };
        await store().commit('k1', delta, now);
        const setsX = step !== 'clear' && step.some((w) => w.key === 'x' && w.value !== undefined);
        if (setsX) seen.push(versionOf(await loadLive(store(), 'k1', now), 'x'));
      }
      assert.equal(seen.length, 5, `x should have been written 5 times, saw versions ${seen.join(', ')}`);
      for (let i = 1; i < seen.length; i++) {
        assert.ok(
          (seen[i] as number) > (seen[i - 1] as number),
          `versions of x must strictly increase, got ${seen.join(', ')}`,
        );
      }
    });
  });
}

function versionOf(record: Awaited<ReturnType<SessionStore['load']>>, key: string): number {
  const entry = record?.entries.find((e) => e.key === key);
  assert.ok(entry, `expected an entry ${key}`);
  return entry.version;
}

function storedValue(record: Awaited<ReturnType<SessionStore['load']>>, key: string): string | undefined {
  return record?.entries.find((e) => e.key === key)?.value;
}
