/** @jsxImportSource hono/jsx */
/**
 * The example's one page as a Hono JSX component (values are HTML-escaped). It reads the
 * session only through `session:` paths, on a synchronous view loaded by the route.
 */
import type { SessionView } from 'tsession/templates';

/** The value a path names, arrays as a comma-separated list. */
function show(session: SessionView, expression: string): string {
  const value = session.path(expression);
  return String(Array.isArray(value) ? value.join(', ') : value);
}

export function HomePage({ session }: { session: SessionView }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <title>tsession on Hono</title>
      </head>
      <body>
        <h1>
          Hello, <span id="user">{show(session, 'session:example.auth/user | guest')}</span>
        </h1>
        <p>
          Counter: <span id="counter">{show(session, 'session:example.counter/n | 0')}</span>
        </p>
        <p>
          Cart: <span id="cart">{show(session, 'session:example.cart/items | empty')}</span>
        </p>
        <form method="post" action="/cart">
          <input name="item" required />
          <button type="submit">Add to cart</button>
        </form>
        <form method="post" action="/login">
          <input name="user" required />
          <button type="submit">Log in</button>
        </form>
        <form method="post" action="/logout">
          <button type="submit">Log out</button>
        </form>
      </body>
    </html>
  );
}
