import { describe, expect, it } from 'vitest';
import {
  CookieClientIdManager,
  SessionDataContainer,
  SessionManager,
  type SessionRequest,
  userAgentClass,
} from '../../src/index.js';
import { MemoryStore } from '../../src/stores/memory/index.js';
import { cookieFrom, request, SECRET } from '../helpers.js';

const CHROME =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36';
const CHROME_NEXT = CHROME.replace('Chrome/130.0', 'Chrome/131.0');
const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0';

function boundManager() {
  const store = new MemoryStore({ sweepIntervalSeconds: 0 });
  const manager = new SessionManager({
    clientIds: new CookieClientIdManager({ secret: SECRET }),
    container: new SessionDataContainer({ store }),
    fingerprint: userAgentClass,
  });
  return { manager, store };
}

const from = (agent: string, cookie?: string): SessionRequest =>
  request({ headers: { 'user-agent': agent }, ...(cookie !== undefined && { cookie }) });

describe('binding sessions to a client fingerprint', () => {
  it('classes user agents by browser family and platform, never by version', () => {
    expect(userAgentClass(from(CHROME))).toBe('chrome/windows');
    expect(userAgentClass(from(CHROME_NEXT))).toBe('chrome/windows');
    expect(userAgentClass(from(FIREFOX))).toBe('firefox/linux');
    expect(userAgentClass(request())).toBe('other/other');
  });

  it('a cookie replayed from another kind of client reads empty and cannot write into the session', async () => {
    const { manager } = boundManager();
    const owner = manager.open(from(CHROME));
    (await owner.get('app.auth')).set('user', 'ada');
    await owner.commit();
    const cookie = cookieFrom(owner.responseHeaders) as string;

    const sameClient = manager.open(from(CHROME_NEXT, cookie));
    expect((await sameClient.get('app.auth')).get('user')).toBe('ada');

    const thief = manager.open(from(FIREFOX, cookie));
    const stolen = await thief.get('app.auth');
    expect(stolen.get('user')).toBeUndefined();
    stolen.set('user', 'mallory');
    await thief.commit();
    expect(cookieFrom(thief.responseHeaders)).not.toBe(cookie); // a fresh id, not the victim's

    const afterwards = manager.open(from(CHROME, cookie));
    expect((await afterwards.get('app.auth')).get('user')).toBe('ada');
  });

  it('keeps the binding through clear() and regenerate(), and hides the reserved package from the app', async () => {
    const { manager } = boundManager();
    const first = manager.open(from(CHROME));
    (await first.get('app.prefs')).set('theme', 'dark');
    await first.commit();
    let cookie = cookieFrom(first.responseHeaders) as string;

    const clearing = manager.open(from(CHROME, cookie));
    await clearing.clear();
    (await clearing.get('app.prefs')).set('theme', 'light');
    await clearing.commit();
    expect((await manager.open(from(FIREFOX, cookie)).get('app.prefs')).get('theme')).toBeUndefined();

    const login = manager.open(from(CHROME, cookie));
    await login.regenerate();
    await login.commit();
    cookie = cookieFrom(login.responseHeaders) as string;
    expect((await manager.open(from(CHROME, cookie)).get('app.prefs')).get('theme')).toBe('light');
    expect((await manager.open(from(FIREFOX, cookie)).get('app.prefs')).get('theme')).toBeUndefined();
    await expect(manager.open(from(CHROME, cookie)).get('tsession:internal')).rejects.toThrow(/reserved/);
  });
});
