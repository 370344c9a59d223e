import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sessions } from '../../src/adapters/express/index.js';
import { SessionConfigError } from '../../src/errors.js';
import { sessionLocals } from '../../src/templates/index.js';
import { Browser } from '../adapters/support/browser.js';
import { listen } from '../adapters/support/node.js';
import { countCalls, memoryManager } from '../helpers.js';

const HOME = [
  "<p>first: <%= session.path('session:shop.cart/items/0 | none') %></p>",
  "<p>count: <%= session.path('session:shop.cart/items').length %></p>",
  "<p>coupon: <%= session.path('session:shop.cart/coupon | no coupon') %></p>",
  "<p>theme: <%= session.path('session:app.prefs/theme | light') %></p>",
].join('\n');

/** A tiny EJS: `<%= expression %>` evaluated against the render's locals, HTML-escaped. */
function tinyEjs(path: string, options: object, callback: (error: unknown, html?: string) => void): void {
  try {
    const html = readFileSync(path, 'utf8').replace(/<%=([\s\S]+?)%>/g, (_, code: string) => {
      const value: unknown = new Function('locals', `with (locals) { return (${code}); }`)(options);
      return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
    });
    callback(null, html);
  } catch (error) {
    callback(error);
  }
}

let views: string;
beforeEach(() => {
  views = mkdtempSync(join(tmpdir(), 'tsession-views-'));
  writeFileSync(join(views, 'home.tpl'), HOME);
  writeFileSync(join(views, 'mine.tpl'), "<%= mine.path('session:shop.cart/items/1 | none') %>");
});
afterEach(() => rmSync(views, { recursive: true, force: true }));

async function start() {
  const { manager, store } = memoryManager();
  const calls = countCalls(store);
  const app = express();
  app.engine('tpl', tinyEjs);
  app.set('views', views);
  app.set('view engine', 'tpl');
  app.use(sessions(manager));
  app.post('/add', async (req, res) => {
    const cart = await req.tsession.get('shop.cart');
    cart.set('items', [...((cart.get('items') as string[] | undefined) ?? []), String(req.query.item)]);
    res.send('added');
  });
  app.get('/', sessionLocals(['shop.cart']), (_req, res) => res.render('home'));
  app.get('/mine', sessionLocals(['shop.cart'], { name: 'mine' }), (_req, res) => res.render('mine'));
  return { server: await listen(createServer(app)), calls };
}

describe('SPEC 41: sessionLocals puts a session view on res.locals for Express view engines', () => {
  it('renders values from the session and fallbacks for missing paths and unloaded packages', async () => {
    const { server } = await start();
    try {
      const browser = new Browser(server.url);
      await browser.post('/add?item=apple');
      await browser.post('/add?item=<pear>');
      const page = await browser.get('/');
      expect(page.status).toBe(200);
      expect(page.body).toContain('<p>first: apple</p>');
      expect(page.body).toContain('<p>count: 2</p>');
      expect(page.body).toContain('<p>coupon: no coupon</p>');
      expect(page.body).toContain('<p>theme: light</p>'); // app.prefs was not loaded
      expect(page.setCookies).toEqual([]);
      expect((await browser.get('/mine')).body).toBe('&#60;pear&#62;');
    } finally {
      await server.close();
    }
  });

  it('a request that only renders creates no session: no Set-Cookie, no store write', async () => {
    const { server, calls } = await start();
    try {
      const browser = new Browser(server.url);
      const page = await browser.get('/mine');
      expect(page.status).toBe(200);
      expect(page.body).toBe('none');
      expect(page.setCookies).toEqual([]);
      expect(page.headers.get('set-cookie')).toBeNull();
      expect(calls.commit).toBe(0);
      await browser.post('/add?item=apple');
      expect(calls.commit).toBe(1);
    } finally {
      await server.close();
    }
  });

  it('checks its options at construction and answers 500 through next() without sessions()', async () => {
    expect(() => sessionLocals('shop.cart' as unknown as string[])).toThrow(SessionConfigError);
    expect(() => sessionLocals([''])).toThrow(/sessionLocals: `packages`/);
    expect(() => sessionLocals(['shop.cart'], { name: '' })).toThrow(/sessionLocals: `name`/);
    const app = express();
    let seen: unknown;
    app.get('/', sessionLocals(['shop.cart']), (_req, res) => res.send('rendered'));
    app.use(((error, _req, res, _next) => {
      seen = error;
      res.status(500).send('error');
    }) as express.ErrorRequestHandler);
    const server = await listen(createServer(app));
    try {
      expect((await new Browser(server.url).get('/')).status).toBe(500);
      expect(seen).toBeInstanceOf(SessionConfigError);
    } finally {
      await server.close();
    }
  });
});
