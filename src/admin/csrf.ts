import { randomBytes, timingSafeEqual } from 'node:crypto';
import { parse as parseCookies, serialize } from 'cookie';

const COOKIE = 'tsession_admin_csrf';

/**
 * Double-submit CSRF protection for the admin page's forms: a random token in a
 * SameSite=Strict, HttpOnly cookie scoped to the admin path, repeated in every form;
 * a state-changing request must carry both, equal, and must not come from another site.
 */
export class CsrfGuard {
  readonly #path: string;

  constructor(path: string) {
    this.#path = path || '/';
  }

  /** The request's token, or a new one with the Set-Cookie header that stores it. */
  token(request: Request): { token: string; setCookie?: string } {
    const existing = cookieToken(request);
    if (existing) return { token: existing };
    const token = randomBytes(24).toString('base64url');
    const secure = new URL(request.url).protocol === 'https:';
    const setCookie = serialize(COOKIE, token, { path: this.#path, httpOnly: true, sameSite: 'strict', secure });
    return { token, setCookie };
  }

  /** True when a state-changing request carries the cookie's token in its form, and no cross-site marker. */
  verify(request: Request, form: FormData): boolean {
    const site = request.headers.get('sec-fetch-site');
    if (site !== null && site !== 'same-origin' && site !== 'none') return false;
    const origin = request.headers.get('origin');
    if (origin !== null && origin !== new URL(request.url).origin) return false;
    const expected = cookieToken(request);
    const given = form.get('csrf');
    if (!expected || typeof given !== 'string') return false;
    // Compare bytes, not characters: text of equal length can differ in UTF-8 byte length,
    // and timingSafeEqual throws (RangeError) on buffers of different lengths.
    const givenBytes = Buffer.from(given, 'utf8');
    const expectedBytes = Buffer.from(expected, 'utf8');
    return givenBytes.length === expectedBytes.length && timingSafeEqual(givenBytes, expectedBytes);
  }
}

function cookieToken(request: Request): string | undefined {
  const header = request.headers.get('cookie');
  return header ? parseCookies(header)[COOKIE] : undefined;
}
