import type { ServerResponse } from 'node:http';
import type { SessionIncomingMessage } from 'tsession/http';
import { cartPage, errorPage, homePage } from './views.js';

declare module 'tsession' {
  interface SessionPackages {
    'demo.visits': { count: number };
    'demo.prefs': { color: string };
    'shop.prefs': { color: string };
    'demo.cart': { items: string[] };
    'demo.auth': { user: string; since: Date };
  }
}

type Handler = (req: SessionIncomingMessage, res: ServerResponse) => Promise<void>;

/** An answer with a 4xx status and a message for the user. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const COLOR = /^#[0-9a-f]{6}$/i;
const MAX_FORM_BYTES = 8 * 1024;
const MAX_CART_ITEMS = 50;

const routes: Record<string, Partial<Record<string, Handler>>> = {
  '/': { GET: home },
  '/prefs': { POST: setColor },
  '/cart': { GET: showCart },
  '/cart/add': { POST: addItem },
  '/cart/remove': { POST: removeItem },
  '/cart/clear': { POST: clearCart },
  '/login': { POST: login },
  '/logout': { POST: logout },
};

/** The demo's request handler, for `withSessions(manager, route)`. */
export async function route(req: SessionIncomingMessage, res: ServerResponse): Promise<void> {
  const { pathname } = new URL(req.url ?? '/', 'http://demo.invalid');
  const methods = routes[pathname];
  const handler = methods?.[req.method ?? 'GET'];
  try {
    if (!methods) throw new HttpError(404, `Nothing lives at ${pathname}.`);
    if (!handler) {
      res.setHeader('Allow', Object.keys(methods).join(', '));
      throw new HttpError(405, `${pathname} does not answer ${req.method}.`);
    }
    await handler(req, res);
  } catch (error) {
    if (!(error instanceof HttpError)) throw error;
    sendHtml(res, error.status, errorPage(error.status, error.message));
  }
}

async function home(req: SessionIncomingMessage, res: ServerResponse): Promise<void> {
  const { session } = req;
  const [visits, demoPrefs, shopPrefs, cart, auth] = await Promise.all([
    session.get('demo.visits'),
    session.get('demo.prefs'),
    session.get('shop.prefs'),
    session.get('demo.cart'),
    session.get('demo.auth'),
  ]);
  const stored = [visits, demoPrefs, shopPrefs, cart, auth].some((pkg) => pkg.size > 0);
  // A verified cookie whose session holds nothing is one the store does not know: a new id replaces it at commit.
  const unknownCookie = !stored && session.idSource !== undefined;
  const count = (visits.get('count') ?? 0) + 1;
  visits.set('count', count);
  sendHtml(
    res,
    200,
    homePage({
      visits: count,
      session: {
        fingerprint: unknownCookie ? undefined : session.clientId.slice(0, 8),
        isNew: session.isNew,
        source: session.idSource,
        unknownCookie,
      },
      demoColor: demoPrefs.get('color'),
      shopColor: shopPrefs.get('color'),
      user: auth.get('user'),
      since: auth.get('since'),
      cartCount: cart.get('items')?.length ?? 0,
    }),
  );
}

async function setColor(req: SessionIncomingMessage, res: ServerResponse): Promise<void> {
  const form = await readForm(req);
  const color = form.get('color') ?? '';
  if (!COLOR.test(color)) throw new HttpError(400, 'A color is written #rrggbb.');
  const pkg = form.get('pkg') === 'shop' ? 'shop.prefs' : 'demo.prefs';
  (await req.session.get(pkg)).set('color', color.toLowerCase());
  redirect(res, '/');
}

async function showCart(req: SessionIncomingMessage, res: ServerResponse): Promise<void> {
  const cart = await req.session.peek('demo.cart');
  const auth = await req.session.peek('demo.auth');
  sendHtml(res, 200, cartPage(cart?.get('items') ?? [], auth?.get('user')));
}

async function addItem(req: SessionIncomingMessage, res: ServerResponse): Promise<void> {
  const item = (await readForm(req)).get('item')?.trim() ?? '';
  if (item.length === 0 || item.length > 60) throw new HttpError(400, 'An item name is 1 to 60 characters.');
  const cart = await req.session.get('demo.cart');
  const items = cart.get('items');
  if (!items) cart.set('items', [item]);
  else if (items.length >= MAX_CART_ITEMS) throw new HttpError(400, `The cart holds at most ${MAX_CART_ITEMS} items.`);
  else items.push(item); // in place: no cart.set() needed, the commit sees the changed encoding
  redirect(res, '/cart');
}

async function removeItem(req: SessionIncomingMessage, res: ServerResponse): Promise<void> {
  const index = Number((await readForm(req)).get('index'));
  const items = (await req.session.peek('demo.cart'))?.get('items');
  if (items && Number.isInteger(index) && index >= 0) items.splice(index, 1);
  redirect(res, '/cart');
}

async function clearCart(req: SessionIncomingMessage, res: ServerResponse): Promise<void> {
  await readForm(req);
  (await req.session.peek('demo.cart'))?.get('items')?.splice(0);
  redirect(res, '/cart');
}

async function login(req: SessionIncomingMessage, res: ServerResponse): Promise<void> {
  const username = (await readForm(req)).get('username')?.trim() ?? '';
  if (username.length === 0 || username.length > 40) throw new HttpError(400, 'A username is 1 to 40 characters.');
  // A new id at every change of privilege, against session fixation; the data moves along.
  await req.session.regenerate();
  const auth = await req.session.get('demo.auth');
  auth.set('user', username);
  auth.set('since', new Date());
  redirect(res, '/');
}

async function logout(req: SessionIncomingMessage, res: ServerResponse): Promise<void> {
  await readForm(req);
  req.session.invalidate(); // deletes the data and removes the cookie
  redirect(res, '/');
}

/** Reads an application/x-www-form-urlencoded body of at most 8 KiB. */
async function readForm(req: SessionIncomingMessage): Promise<URLSearchParams> {
  const type = req.headers['content-type'] ?? '';
  if (!type.startsWith('application/x-www-form-urlencoded')) {
    throw new HttpError(415, 'Send the form as application/x-www-form-urlencoded.');
  }
  req.setEncoding('utf8');
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > MAX_FORM_BYTES) throw new HttpError(413, 'That form is too large.');
  }
  return new URLSearchParams(body);
}

/** 303 See Other: the browser GETs the page, and that request sees this one's commit. */
function redirect(res: ServerResponse, location: string): void {
  res.writeHead(303, { Location: location, 'Content-Length': 0 }).end();
}

function sendHtml(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, {
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
  });
  res.end(body);
}
