import type { HeaderEntry } from '../../client-id/types.js';

const SAFE_PATH = /^\/[\x21-\x3a\x3c-\x7e]*$/;

/**
 * The headers with the Path attribute of each Set-Cookie replaced by `path`, for a
 * cookie that follows the app's mount path. `__Host-` cookies keep `Path=/` (their
 * rule), and a path that cannot appear in a cookie attribute leaves the headers as
 * they are.
 */
export function withCookiePath(headers: readonly HeaderEntry[], path: string): readonly HeaderEntry[] {
  if (path === '' || path === '/' || !SAFE_PATH.test(path)) return headers;
  return headers.map(([name, value]) => {
    if (name.toLowerCase() !== 'set-cookie' || value.startsWith('__Host-')) return [name, value] as const;
    const replaced = value.replace(/;\s*Path=[^;]*/i, `; Path=${path}`);
    return [name, replaced === value ? `${value}; Path=${path}` : replaced] as const;
  });
}
