import { describe, expect, it } from 'vitest';
import { cookieFrom, memoryManager, request } from '../helpers.js';

describe('smoke', () => {
  it('counts', async () => {
    const { manager } = memoryManager();
    let cookie: string | undefined;
    for (const expected of [1, 2, 3]) {
      const s = manager.open(request(cookie ? { cookie } : {}));
      const data = await s.get('counter');
      const n = ((data.get('count') as number | undefined) ?? 0) + 1;
      data.set('count', n);
      await s.commit();
      expect(n).toBe(expected);
      cookie = cookieFrom(s.responseHeaders) ?? cookie;
    }
  });
});
