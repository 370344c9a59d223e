/**
 * The demo in a real headless Chromium (Debian's package, driven by playwright-core):
 * cookie attributes as the browser stores them, login, persistence across a server
 * restart, and the admin page deleting this very session.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoServer, type DemoServer } from '../../examples/demo/server.js';

const CHROMIUM = '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
if (!available) {
  if (process.env.CI === 'true') throw new Error(`CI needs ${CHROMIUM}: apt-get install chromium`);
  console.warn(`\n!!! SKIPPING BROWSER TESTS: ${CHROMIUM} is missing; install it with: apt-get install chromium\n`);
}

describe.skipIf(!available)('the demo in headless Chromium', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tsession-e2e-data-'));
  const profileDir = mkdtempSync(join(tmpdir(), 'tsession-e2e-profile-'));
  let demo: DemoServer;
  let port: number;
  let context: BrowserContext;
  let page: Page;

  const url = (path: string) => `http://localhost:${port}${path}`;
  const visits = async () => Number(await page.locator('.big').first().textContent());
  const sessionCookie = async () => (await context.cookies(url('/'))).find((c) => c.name === 'tsession');

  beforeAll(async () => {
    demo = await createDemoServer({ dataDir, port: 0 });
    port = Number(new URL(demo.url).port);
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
    page = context.pages()[0] ?? (await context.newPage());
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    await demo?.close();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(profileDir, { recursive: true, force: true });
  });

  it('stores the cookie with the attributes the library promises', async () => {
    await page.goto(url('/'));
    expect(await visits()).toBe(1);
    const cookie = await sessionCookie();
    expect(cookie).toMatchObject({ name: 'tsession', path: '/', httpOnly: true, sameSite: 'Lax', secure: false });
    expect(cookie?.value).toMatch(/^[A-Za-z0-9_-]{24}\.[A-Za-z0-9_-]{43}$/);
    const oneDay = Date.now() / 1000 + 86_400;
    expect(cookie?.expires).toBeGreaterThan(oneDay - 120);
    expect(cookie?.expires).toBeLessThan(oneDay + 120);
    expect(await page.evaluate(() => document.cookie)).toBe(''); // HttpOnly: invisible to scripts
    await page.reload();
    expect(await visits()).toBe(2);
  });

  it('logs in under a fresh id, and keeps the counter across a server restart', async () => {
    const before = (await sessionCookie())?.value;
    await page.fill('input[name=username]', 'admin');
    await Promise.all([page.waitForURL(url('/')), page.click('form[action="/login"] button')]);
    const after = (await sessionCookie())?.value;
    expect(after).not.toBe(before);
    expect(await page.textContent('body')).toContain('admin');
    const count = await visits();

    await demo.close();
    demo = await createDemoServer({ dataDir, port });
    await page.reload();
    expect(await visits()).toBe(count + 1);
    expect((await sessionCookie())?.value).toBe(after);
  });

  it('finds this session on the admin page, deletes it, and the next request starts afresh', async () => {
    const key = (await sessionCookie())?.value.slice(0, 24) as string;
    await page.goto(url('/admin/'));
    await expect.poll(() => page.locator('[data-value="live"]').textContent()).not.toBe('…');
    await page.locator(`a[href="/admin/session/${key}"]`).waitFor();
    // The README's screenshot is refreshed on request, so a test run leaves the work tree clean.
    const shot = process.env.TSESSION_UPDATE_SCREENSHOTS
      ? join(process.cwd(), 'docs', 'admin.png')
      : join(profileDir, 'admin.png');
    await page.screenshot({ path: shot, fullPage: true });

    await page.click(`a[href="/admin/session/${key}"]`);
    expect(await page.textContent('body')).toContain('demo.auth');
    // This is the admin's own session: once it is deleted, the admin page no longer lets the browser in.
    const [afterDelete] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/admin/?done=deleted')),
      page.click('button.danger'),
    ]);
    expect(afterDelete.status()).toBe(403);

    await page.goto(url('/'));
    expect(await visits()).toBe(1);
    expect((await sessionCookie())?.value.slice(0, 24)).not.toBe(key);
  });
});
