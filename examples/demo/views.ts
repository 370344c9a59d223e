/**
 * The demo's HTML: plain template strings, no build step, no external assets.
 * Every interpolated value goes through {@link escapeHtml}, via the {@link html} tag.
 */

/** Markup that is already safe: the {@link html} tag inserts it as is. */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML content and quoted attribute values. */
export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ESCAPES[c] as string);
}

/** A template tag that escapes every value except {@link SafeHtml}; arrays are joined. */
export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  const render = (v: unknown): string =>
    v instanceof SafeHtml ? v.value : Array.isArray(v) ? v.map(render).join('') : escapeHtml(v);
  return new SafeHtml(strings.reduce((out, s, i) => out + render(values[i - 1]) + s));
}

const STYLE = `
  *{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,sans-serif;background:#f4f5f8;color:#1d2330}
  header{background:#1d2330;color:#fff;padding:.8rem 1.5rem;display:flex;gap:1.5rem;align-items:center}
  header a{color:#cfd6ff;text-decoration:none}header strong{font-size:1.1rem;margin-right:auto}
  main{max-width:860px;margin:1.5rem auto;padding:0 1rem}h1{font-size:1.5rem;margin:.2rem 0 1rem}
  .grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(240px,1fr));gap:1rem}
  .card{background:#fff;border-radius:10px;padding:1rem 1.2rem;box-shadow:0 1px 3px #0002;margin-bottom:1rem}
  .card h2{font-size:1rem;margin:0 0 .5rem;color:#4a5578}.big{font-size:2.4rem;font-weight:700}
  code{background:#eef0f6;padding:0 .3rem;border-radius:4px}.muted{color:#6b7489;font-size:.9rem}
  .swatch{display:inline-block;width:2.2rem;height:2.2rem;border-radius:6px;vertical-align:middle;border:1px solid #0003}
  form{display:inline-flex;gap:.5rem;align-items:center;margin:.3rem 0}
  input[type=text]{padding:.4rem .6rem;border:1px solid #c5cad8;border-radius:6px}
  button{padding:.4rem .9rem;border:0;border-radius:6px;background:#3d5afe;color:#fff;cursor:pointer}
  button.light{background:#e4e7f0;color:#1d2330}ul.cart{padding:0;list-style:none}
  ul.cart li{display:flex;justify-content:space-between;align-items:center;border-bottom:1px solid #eef0f6}
  .note{background:#fff6d8;border-left:4px solid #f5b400;padding:.5rem .8rem;border-radius:4px}`;

/** The page frame: header with navigation and the logged-in user. */
export function layout(title: string, user: string | undefined, body: SafeHtml): string {
  const who = user
    ? html`<span>Signed in as <b>${user}</b></span>`
    : html`<span class="muted" style="color:#aab">not signed in</span>`;
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${title} · tsession demo</title><style>${new SafeHtml(STYLE)}</style></head>
<body><header><strong>tsession demo</strong><a href="/">Home</a><a href="/cart">Cart</a>${who}</header>
<main>${body}</main></body></html>`.value;
}

/** What the home page shows about the client's session. */
export interface SessionInfo {
  /** The first characters of the client id, when it is the one the response will carry. */
  fingerprint: string | undefined;
  isNew: boolean;
  source: string | undefined;
  /** The request carried a valid cookie naming a session the store does not know. */
  unknownCookie: boolean;
}

/** The data the home page shows. */
export interface HomeView {
  visits: number;
  session: SessionInfo;
  demoColor: string | undefined;
  shopColor: string | undefined;
  user: string | undefined;
  since: Date | undefined;
  cartCount: number;
}

/** `/`: the visit counter, the session, the two `color` keys, and login/logout. */
export function homePage(v: HomeView): string {
  const s = v.session;
  const id = s.fingerprint
    ? html`<code>${s.fingerprint}…</code>`
    : html`<span class="muted">(issued with this response)</span>`;
  const unknown = s.unknownCookie
    ? html`<p class="note">Your cookie named a session this server does not know (logged out, regenerated or
      expired). Unknown ids are never adopted: a fresh one comes with this response.</p>`
    : '';
  return layout(
    'Home',
    v.user,
    html`<h1>Sessions, the Zope way</h1>${unknown}
<div class="grid">
  <section class="card"><h2>Visits <span class="muted">package <code>demo.visits</code></span></h2>
    <div class="big">${v.visits}</div><p class="muted">Reload to count. Survives a server restart.</p></section>
  <section class="card"><h2>Your session</h2>
    <p>Id ${id}<br>New in this request: <b>${s.isNew ? 'yes' : 'no'}</b><br>
    Id read from: <b>${s.source ?? 'nowhere (no valid id sent)'}</b></p></section>
</div>
<section class="card"><h2>Two packages, one key name</h2>
  <p class="muted">Both store a key <code>color</code>; package ids keep them apart.</p>
  <div class="grid">${colorForm('demo', v.demoColor)}${colorForm('shop', v.shopColor)}</div></section>
<div class="grid">
  <section class="card"><h2>Cart <span class="muted">package <code>demo.cart</code></span></h2>
    <p>${v.cartCount} item${v.cartCount === 1 ? '' : 's'} · <a href="/cart">open the cart</a></p></section>
  <section class="card"><h2>Login <span class="muted">package <code>demo.auth</code></span></h2>${loginBox(v)}</section>
</div>`,
  );
}

function colorForm(pkg: 'demo' | 'shop', color: string | undefined): SafeHtml {
  return html`<div><p><code>${pkg}.prefs</code> › <code>color</code>:
  ${color ? html`<span class="swatch" style="background:${color}"></span> <code>${color}</code>` : html`<span class="muted">not set</span>`}</p>
  <form method="post" action="/prefs"><input type="hidden" name="pkg" value="${pkg}">
  <input type="color" name="color" value="${color ?? (pkg === 'demo' ? '#3d5afe' : '#f5b400')}" aria-label="${pkg} color">
  <button>Save ${pkg} color</button></form></div>`;
}

function loginBox(v: HomeView): SafeHtml {
  if (v.user) {
    return html`<p>Signed in as <b>${v.user}</b> since ${v.since?.toLocaleTimeString('en-GB') ?? '?'}.</p>
    <form method="post" action="/logout"><button class="light">Log out (invalidate)</button></form>`;
  }
  return html`<p class="muted">No password: it's a demo. Login regenerates the session id.</p>
  <form method="post" action="/login"><input type="text" name="username" placeholder="your name" required maxlength="40">
  <button>Log in</button></form>`;
}

/** `/cart`: the items, with add, remove and empty forms. */
export function cartPage(items: readonly string[], user: string | undefined): string {
  const rows = items.map(
    (item, index) => html`<li><span>${item}</span><form method="post" action="/cart/remove">
      <input type="hidden" name="index" value="${index}"><button class="light">Remove</button></form></li>`,
  );
  return layout(
    'Cart',
    user,
    html`<h1>Cart</h1><section class="card">
  <p class="muted">Adding does <code>cart.get('items').push(item)</code> with no re-assignment: tsession compares
  encodings at commit, so in-place mutation is saved.</p>
  ${items.length ? html`<ul class="cart">${rows}</ul>` : html`<p>Your cart is empty.</p>`}
  <form method="post" action="/cart/add"><input type="text" name="item" placeholder="e.g. teapot" required maxlength="60">
  <button>Add</button></form>
  ${items.length ? html`<form method="post" action="/cart/clear"><button class="light">Empty the cart</button></form>` : ''}
</section>`,
  );
}

/** A page for a 4xx answer. */
export function errorPage(status: number, message: string): string {
  return layout(
    String(status),
    undefined,
    html`<h1>${status}</h1><section class="card"><p>${message}</p><p><a href="/">Back home</a></p></section>`,
  );
}
