/** The Fastify and Koa examples' one page: a template function that reads the session only through `session:` paths. */
import type { SessionView } from 'tsession/templates';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** The value a path names (arrays as a comma-separated list), HTML-escaped. */
function show(session: SessionView, expression: string): string {
  const value = session.path(expression);
  return String(Array.isArray(value) ? value.join(', ') : value).replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

export function homePage(framework: string, session: SessionView): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>tsession on ${framework}</title></head>
<body>
  <h1>Hello, <span id="user">${show(session, 'session:example.auth/user | guest')}</span></h1>
  <p>Counter: <span id="counter">${show(session, 'session:example.counter/n | 0')}</span></p>
  <p>Cart: <span id="cart">${show(session, 'session:example.cart/items | empty')}</span></p>
  <form method="post" action="/cart"><input name="item" required><button type="submit">Add to cart</button></form>
  <form method="post" action="/login"><input name="user" required><button type="submit">Log in</button></form>
  <form method="post" action="/logout"><button type="submit">Log out</button></form>
</body>
</html>
`;
}
