/**
 * Issue 11 finding 9: with the url (or form) conveyance and a cookie `lifetime`, an id
 * that arrived in a link is never turned into the victim's Set-Cookie (fixation would
 * need only a click), unless `cookieFromUrlOrForm` asks for it. Over real HTTP
 * (tsession/http), the attacker's session made by a real request.
 */
import { createServer } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { withSessions } from '../../src/adapters/http/index.js';
import type { CookieClientIdOptions } from '../../src/index.js';
import type { MemoryStore } from '../../src/stores/memory/index.js';
import type { RunningServer } from '../adapters/suite.js';
import { listen } from '../adapters/support/node.js';
import { manualClock, memoryManager, OTHER_SECRET, request, SECRET } from '../helpers.js';

const DAY = 86_400;
let running: RunningServer | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

/** An app counting visits in `fix.counter`, its ids in cookie then url, the cookie lasting a day. */
async function app(cookie: Partial<CookieClientIdOptions> = {}, store?: MemoryStore) {
  const clock = manualClock(Math.floor(Date.now() / 1000));
  const env = memoryManager({
    clock,
    cookie: { lifetime: DAY, conveyances: ['cookie', 'url'], ...cookie },
    ...(store && { store }),
  });
  const server = createServer(
    withSessions(env.manager, async (req, res) => {
      const data = await req.session.get('fix.counter');
      data.set('n', ((data.get('n') as number | undefined) ?? 0) + 1);
      res.end(req.session.encodeUrl('/next'));
    }),
  );
  running = await listen(server);
  return { ...env, clock, url: running.url };
}

/** The attacker's own visit: the id it got, as a link would carry it. */
async function attackerId(url: string): Promise<string> {
  const first = await fetch(`${url}/`);
  const setCookie = first.headers.get('set-cookie') as string;
  return decodeURIComponent((/^tsession=([^;]+)/.exec(setCookie) as RegExpExecArray)[1] as string);
}

describe('issue 11 finding 9: an id from a link never becomes a cookie by default', () => {
  it('a victim following a link with the attacker id past the resolution gets no Set-Cookie', async () => {
    const { url, clock } = await app();
    const id = await attackerId(url);
    clock.advance(3_000); // past the resolution: this visit writes the last-access time
    const victim = await fetch(`${url}/?tsession=${encodeURIComponent(id)}`);
    expect(victim.status).toBe(200);
    expect(victim.headers.get('set-cookie')).toBeNull();
    // the link still works for as long as it is followed: the url carries the id on
    expect(await victim.text()).toContain(encodeURIComponent(id));
  });

  it('a cookie carrying the same id is still refreshed (the id did not come from the link alone)', async () => {
    const { url, clock } = await app();
    const id = await attackerId(url);
    clock.advance(3_000);
    const answer = await fetch(`${url}/?tsession=${encodeURIComponent(id)}`, { headers: { cookie: `tsession=${id}` } });
    expect(answer.headers.get('set-cookie')).toMatch(/^tsession=/);
  });

  it('an id signed by an older secret from a link is not re-sent as a cookie either', async () => {
    const old = await app({ secret: OTHER_SECRET });
    const id = await attackerId(old.url);
    await running?.close();
    const { url } = await app({ secret: [SECRET, OTHER_SECRET] }, old.store);
    const answer = await fetch(`${url}/?tsession=${encodeURIComponent(id)}`);
    expect(answer.headers.get('set-cookie')).toBeNull();
  });

  it('with cookieFromUrlOrForm: true the link id is persisted as a cookie (the option does what it says)', async () => {
    const { url, clock } = await app({ cookieFromUrlOrForm: true });
    const id = await attackerId(url);
    clock.advance(3_000);
    const victim = await fetch(`${url}/?tsession=${encodeURIComponent(id)}`);
    expect(victim.headers.get('set-cookie')).toContain(`tsession=${encodeURIComponent(id)}`);
  });

  it('the form conveyance follows the same rule', async () => {
    const clock = manualClock();
    const { manager } = memoryManager({ clock, cookie: { lifetime: DAY, conveyances: ['cookie', 'form'] } });
    const start = manager.open(request({ method: 'POST' }));
    (await start.get('p')).set('n', 1);
    await start.commit();
    const id = start.clientId;
    clock.advance(3_000);
    const fromForm = manager.open(request({ method: 'POST', form: { tsession: id } }));
    expect(fromForm.idSource).toBe('form');
    (await fromForm.get('p')).set('n', 2);
    await fromForm.commit();
    expect(fromForm.responseHeaders.filter(([name]) => name === 'Set-Cookie')).toEqual([]);
  });
});
