import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { INTERNAL_PACKAGE, PRINCIPAL_KEY } from '../../src/stores/record.js';
import { exportSessions, importSessions } from '../../src/transfer/index.js';
import { everyStore } from '../support/every-store.js';

const NOW = 1_700_000_000;
const KEY = 'k-ann'.padEnd(24, '_');
const ANN = JSON.stringify('ann');
const { kinds, cleanup } = await everyStore('xprincipal');
afterAll(cleanup);

describe('issue 14 §1: export carries the principal, import restores the index', () => {
  for (const from of kinds) {
    it.skipIf(!from.available)(`from ${from.name} into every store`, async () => {
      const source = await from.open();
      const writes = [
        { pkg: INTERNAL_PACKAGE, key: PRINCIPAL_KEY, value: ANN },
        { pkg: 'app.data', key: 'v', value: '1' },
      ];
      await source.commit(KEY, { create: true, touch: { lastAccess: NOW, expiresAt: NOW + 60 }, writes }, NOW);
      const lines: string[] = [];
      for await (const line of exportSessions(source, NOW)) lines.push(line);
      expect(lines.join('')).toContain(`"key":"${PRINCIPAL_KEY}"`);
      await source.close();
      for (const into of kinds.filter((k) => k.available)) {
        const target = await into.open();
        const refused = await importSessions(target, Readable.from(lines), { now: NOW });
        expect(refused.imported, `${into.name} without allowInternal`).toBe(0);
        const report = await importSessions(target, Readable.from(lines), { now: NOW, allowInternal: true });
        expect(report.imported, `${into.name}: ${JSON.stringify(report.problems)}`).toBe(1);
        const found = await target.findByPrincipal?.(ANN, NOW);
        expect(
          found?.map((r) => r.key),
          into.name,
        ).toEqual([KEY]);
        await target.close();
      }
    });
  }
});
