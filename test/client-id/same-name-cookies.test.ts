/**
 * Issue 11 finding 10: a request may carry many cookies of the session cookie's name
 * (path and domain overlaps, or cookies planted by a sibling subdomain: cookie tossing).
 * Only the first 4 are tried, so a read verifies a bounded number of signatures however
 * many arrive: this test counts the HMACs computed (node:crypto's createHmac, wrapped)
 * for a request over real HTTP carrying 150 forged same-name cookies, forged url and form
 * ids, under three secrets.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { withSessions } from '../../src/adapters/http/index.js';
import type { RunningServer } from '../adapters/suite.js';
import { listen } from '../adapters/support/node.js';
import { memoryManager, OTHER_SECRET, request, SECRET } from '../helpers.js';

const hmacs = vi.hoisted(() => ({ count: 0 }));
vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:crypto')>();
  return {
    ...actual,
    createHmac: (...args: Parameters<typeof actual.createHmac>) => {
      hmacs.count++;
      return actual.createHmac(...args);
    },
  };
});

const SECRETS = [SECRET, OTHER_SECRET, `third-${SECRET}`];
const TRIED_COOKIES = 4;
/** A well-formed id (24-character key, 43-character tag) that no secret signed. */
const forged = () => `${randomBytes(18).toString('base64url')}.${randomBytes(32).toString('base64url')}`;

describe('issue 11 finding 10: same-name cookies', () => {
  const env = memoryManager({ cookie: { secret: SECRETS, conveyances: ['cookie', 'url'] } });
  let server: RunningServer;
  beforeAll(async () => {
    server = await listen(
      createServer(
        withSessions(env.manager, async (req, res) => {
          res.end(req.session.idSource ?? 'none');
        }),
      ),
    );
  });
  afterAll(() => server.close());

  it('a request with 150 forged same-name cookies and a forged url id costs at most 4 + 1 ids x 3 secrets HMACs', async () => {
    const cookies = Array.from({ length: 150 }, () => `tsession=${forged()}`).join('; ');
    hmacs.count = 0;
    const answer = await fetch(`${server.url}/?tsession=${forged()}`, { headers: { cookie: cookies } });
    expect(await answer.text()).toBe('none');
    expect(hmacs.count).toBe((TRIED_COOKIES + 1) * SECRETS.length);
  });

  it('the cost does not grow with the number of cookies', async () => {
    const counts: number[] = [];
    for (const n of [5, 50, 150]) {
      hmacs.count = 0;
      const cookies = Array.from({ length: n }, () => `tsession=${forged()}`).join('; ');
      await (await fetch(`${server.url}/`, { headers: { cookie: cookies } })).text();
      counts.push(hmacs.count);
    }
    expect(counts).toEqual([12, 12, 12]);
  });

  it('a valid id behind 3 planted cookies is found; behind 4 it is hidden (the documented limit)', async () => {
    const start = env.manager.open(request());
    const id = start.clientId;
    await start.commit();
    const planted = (n: number) => [...Array.from({ length: n }, () => `tsession=${forged()}`), `tsession=${id}`];
    const behind3 = await fetch(`${server.url}/`, { headers: { cookie: planted(3).join('; ') } });
    expect(await behind3.text()).toBe('cookie');
    const behind4 = await fetch(`${server.url}/`, { headers: { cookie: planted(4).join('; ') } });
    expect(await behind4.text()).toBe('none');
  });
});
