import { describe, expect, it } from 'vitest';
import {
  CookieClientIdManager,
  HeaderClientIdManager,
  MissingClientIdError,
  SessionConfigError,
  SessionStateError,
} from '../../src/index.js';
import { browser, cookieFrom, countCalls, headerValues, memoryManager, request, SECRET } from '../helpers.js';

describe('SPEC 4-5: postOnly and thirdParty', () => {
  it('SPEC 4: postOnly: a GET that needs an id fails with MissingClientIdError and no cookie; a POST issues one', async () => {
    const { manager, store } = memoryManager({ cookie: { postOnly: true } });
    const calls = countCalls(store);

    const asksForId = manager.open(request({ method: 'GET' }));
    expect(() => asksForId.clientId).toThrow(MissingClientIdError);
    await asksForId.commit();
    expect(asksForId.responseHeaders).toEqual([]);

    const writes = manager.open(request({ method: 'GET' }));
    (await writes.get('cart')).set('items', ['x']);
    await expect(writes.commit()).rejects.toThrow(MissingClientIdError);
    expect(writes.responseHeaders).toEqual([]);
    expect(calls.commit).toBe(0);

    const reads = manager.open(request({ method: 'GET' }));
    expect((await reads.get('cart')).get('items')).toBeUndefined();
    await reads.commit();
    expect(reads.responseHeaders).toEqual([]);

    const client = browser(manager);
    await client.visit(async (s) => (await s.get('cart')).set('items', ['x']), { method: 'POST' });
    expect(client.cookie).toMatch(/^tsession=/);
    const { result } = await client.visit(async (s) => (await s.get('cart')).get('items'), { method: 'GET' });
    expect(result).toEqual(['x']);
  });

  it('SPEC 5: thirdParty: the id is read as sent, never set, and a request without one fails', async () => {
    const { manager, store } = memoryManager({ cookie: { thirdParty: true, secret: [] as never } });
    const sent = { cookie: 'tsession=made-by-the-portal-42' };

    const first = manager.open(request(sent));
    expect(first.clientId).toBe('made-by-the-portal-42');
    expect(first.idSource).toBe('cookie');
    (await first.get('prefs')).set('theme', 'dark');
    await first.commit();
    expect(first.responseHeaders).toEqual([]);
    expect((await store.load('made-by-the-portal-42', 1_000))?.entries).toHaveLength(1);

    const second = manager.open(request(sent));
    expect((await second.get('prefs')).get('theme')).toBe('dark');
    second.invalidate();
    await second.commit();
    expect(second.responseHeaders).toEqual([]);

    const without = manager.open(request());
    expect(() => without.clientId).toThrow(MissingClientIdError);
    (await without.get('prefs')).set('theme', 'light');
    await expect(without.commit()).rejects.toThrow(MissingClientIdError);
    expect(without.responseHeaders).toEqual([]);
  });
});

describe('SPEC 10: header manager, url and form conveyances, idSource, isNew', () => {
  it('SPEC 10: a header manager reads a named header and answers with the id in Session-Id', async () => {
    const clientIds = new HeaderClientIdManager({ secret: SECRET, header: 'X-Session' });
    const { manager } = memoryManager({ clientIds });
    const first = manager.open(request());
    (await first.get('api')).set('calls', 1);
    await first.commit();
    const [id] = headerValues(first.responseHeaders, 'session-id');
    expect(id).toBe(first.clientId);
    expect(headerValues(first.responseHeaders, 'set-cookie')).toEqual([]);
    expect(headerValues(first.responseHeaders, 'cache-control')).toEqual(['private, no-store']);

    const second = manager.open(request({ headers: { 'X-Session': id as string } }));
    expect((await second.get('api')).get('calls')).toBe(1);
    expect(second.idSource).toBe('header');
    expect(second.isNew).toBe(false);
    await second.commit();
    expect(second.responseHeaders).toEqual([]);
  });

  it('SPEC 10: a header manager reads `Authorization: Session <id>` and ignores other schemes', async () => {
    const clientIds = new HeaderClientIdManager({ secret: SECRET, header: 'authorization' });
    const { manager } = memoryManager({ clientIds });
    const first = manager.open(request());
    (await first.get('api')).set('calls', 1);
    await first.commit();
    const [id] = headerValues(first.responseHeaders, 'Session-Id');

    const second = manager.open(request({ headers: { authorization: `Session ${id}` } }));
    expect((await second.get('api')).get('calls')).toBe(1);
    expect(second.clientId).toBe(id);
    const bearer = manager.open(request({ headers: { authorization: `Bearer ${id}` } }));
    expect((await bearer.get('api')).get('calls')).toBeUndefined();
    expect(bearer.idSource).toBeUndefined();
    expect(() => new HeaderClientIdManager({ secret: SECRET, header: 'bad header' })).toThrow(SessionConfigError);
    expect(() => new HeaderClientIdManager({ secret: 'short' })).toThrow(/HeaderClientIdManager's secret #1/);
  });

  it('SPEC 10: url and form conveyances are read in the configured priority order', async () => {
    const { manager, store } = memoryManager({ cookie: { conveyances: ['url', 'form', 'cookie'] } });
    const ids: string[] = [];
    for (const color of ['url', 'form', 'cookie']) {
      const s = manager.open(request({ method: 'POST' }));
      (await s.get('p')).set('from', color);
      await s.commit();
      ids.push(s.clientId);
    }
    const [urlId, formId, cookieId] = ids as [string, string, string];
    const all = { url: `/x?tsession=${urlId}`, form: { tsession: formId }, cookie: `tsession=${cookieId}` };

    const read = async (init: Parameters<typeof request>[0]) => {
      const s = manager.open(request(init));
      return [(await s.get('p')).get('from'), s.idSource];
    };
    expect(await read(all)).toEqual(['url', 'url']);
    expect(await read({ ...all, url: '/x?tsession=tampered' })).toEqual(['form', 'form']);
    expect(await read({ cookie: all.cookie, form: { tsession: 'tampered' } })).toEqual(['cookie', 'cookie']);

    const cookieFirst = memoryManager({
      store,
      cookie: { conveyances: ['cookie', 'url'] },
    });
    const s = cookieFirst.manager.open(request({ url: all.url, cookie: all.cookie }));
    expect((await s.get('p')).get('from')).toBe('cookie');
    expect(s.idSource).toBe('cookie');
    const onlyCookie = memoryManager({ store });
    const ignored = onlyCookie.manager.open(request({ url: all.url }));
    expect((await ignored.get('p')).get('from')).toBeUndefined();
    expect(() => new CookieClientIdManager({ secret: SECRET, conveyances: ['query' as never] })).toThrow(
      /unknown conveyance "query"/,
    );
  });

  it('SPEC 10: encodeUrl appends the id with ? or &, keeping the fragment; hiddenField escapes', async () => {
    const { manager } = memoryManager({ cookie: { conveyances: ['url', 'cookie'] } });
    const s = manager.open(request());
    const id = s.clientId;
    expect(s.encodeUrl('/a')).toBe(`/a?tsession=${id}`);
    expect(s.encodeUrl('/a?x=1')).toBe(`/a?x=1&tsession=${id}`);
    expect(s.encodeUrl('/a#top')).toBe(`/a?tsession=${id}#top`);
    expect(s.encodeUrl('/a?x=1#top')).toBe(`/a?x=1&tsession=${id}#top`);
    expect(s.hiddenField()).toBe(`<input type="hidden" name="tsession" value="${id}">`);
    await s.commit();
    expect(cookieFrom(s.responseHeaders)).toBe(`tsession=${id}`);

    const odd = memoryManager({ cookie: { name: `a&b'c` } }).manager.open(request());
    expect(odd.hiddenField()).toBe(`<input type="hidden" name="a&#38;b&#39;c" value="${odd.clientId}">`);
    const back = memoryManager({ cookie: { conveyances: ['url'] } });
    const followed = back.manager.open(request({ url: s.encodeUrl('/a?x=1#top').replace('#top', '') }));
    expect(followed.clientId).toBe(id);

    const headerOnly = memoryManager({ clientIds: new HeaderClientIdManager({ secret: SECRET }) });
    expect(() => headerOnly.manager.open(request()).encodeUrl('/a')).toThrow(SessionStateError);
  });

  it('SPEC 10: the session reports where its id came from and whether it is new', async () => {
    const { manager } = memoryManager();
    const client = browser(manager);
    const fresh = client.open();
    expect(fresh.idSource).toBeUndefined();
    expect(fresh.isNew).toBe(false);
    (await fresh.get('p')).set('k', 1);
    await fresh.commit();
    expect(fresh.isNew).toBe(true);
    client.receive(fresh.responseHeaders);

    const returning = client.open();
    expect(returning.idSource).toBe('cookie');
    expect(returning.isNew).toBe(false);
    void returning.clientId;
    expect(returning.isNew).toBe(false);

    const asked = manager.open(request());
    void asked.clientId;
    expect(asked.isNew).toBe(true);
    expect(asked.idSource).toBeUndefined();
  });
});
