import type { PackageData } from '../session/package-data.js';
import type { Session } from '../session/session.js';

/** A parsed `session:` path expression. */
export interface SessionPathExpression {
  readonly pkg: string;
  /** The key, then properties, Map keys or array indexes inside its value. */
  readonly steps: readonly string[];
  /** What to give when the path names nothing; undefined for `| nothing` or no fallback. */
  readonly fallback: string | undefined;
}

const PREFIX = 'session:';

/**
 * Parses `session:products.foo/color | fallback` (Zope's TALES path syntax): the
 * package id, then `/`-separated steps, then an optional literal fallback after `|`
 * (quotes are stripped; `nothing` means undefined).
 *
 * @throws TypeError for an expression without the `session:` prefix or a package id.
 */
export function parseSessionPath(expression: string): SessionPathExpression {
  const bar = expression.indexOf('|');
  const path = (bar < 0 ? expression : expression.slice(0, bar)).trim();
  const fallbackText = bar < 0 ? undefined : expression.slice(bar + 1).trim();
  if (!path.startsWith(PREFIX)) {
    throw new TypeError(`tsession: a session path starts with "session:", got ${JSON.stringify(expression)}`);
  }
  const [pkg = '', ...steps] = path.slice(PREFIX.length).split('/');
  if (pkg === '') throw new TypeError(`tsession: no package id in ${JSON.stringify(expression)}`);
  return { pkg, steps, fallback: parseFallback(fallbackText) };
}

function parseFallback(text: string | undefined): string | undefined {
  if (text === undefined || text === 'nothing') return undefined;
  const quoted = /^(['"])(.*)\1$/.exec(text);
  return quoted ? quoted[2] : text;
}

/** Follows steps into a value: object properties (own only), Map keys, array indexes. */
export function followSteps(value: unknown, steps: readonly string[]): unknown {
  let current = value;
  for (const step of steps) {
    if (current instanceof Map) current = current.get(step);
    else if (typeof current === 'object' && current !== null && Object.hasOwn(current, step)) {
      current = (current as Record<string, unknown>)[step];
    } else return undefined;
  }
  return current;
}

/**
 * Resolves a path expression against a request's session (SPEC 41): the value, or the
 * fallback when the path names nothing. It only reads: a missing package or key is
 * never created.
 *
 * @example
 * ```ts
 * const color = await sessionPath(session, 'session:products.foo/color | blue');
 * ```
 */
export async function sessionPath(session: Session, expression: string): Promise<unknown> {
  const parsed = parseSessionPath(expression);
  return resolvePath(await session.peek(parsed.pkg), parsed);
}

/** The value a parsed path names in a package's data (the whole package as a plain object when no key is given), or its fallback. */
export function resolvePath(data: PackageData | undefined, { steps, fallback }: SessionPathExpression): unknown {
  const [key, ...rest] = steps;
  const value = data === undefined ? undefined : key === undefined ? data.toJSON() : followSteps(data.get(key), rest);
  return value === undefined ? fallback : value;
}
