/**
 * Hostile Cookie headers for the fuzz tests: arbitraries built around a set of ids the
 * test issued (the only ones that may verify) and ids signed with another secret whose
 * keys are in the same store (forgeries an attacker could mint with a leaked old key).
 */
import fc from 'fast-check';

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/** Characters that break cookie headers and HTTP header lines. */
const NASTY = [';', '=', '\r', '\n', '\r\n', ' ', '\t', '"', ',', '%', '.', '\0', '\\', 'é', '\u2028', '\uFEFF', '💥'];

export interface IdPools {
  /** Ids this test issued through the manager under test, each with a stored session. */
  readonly issued: readonly string[];
  /** Ids signed with another secret, whose keys hold sessions in the same store. */
  readonly foreign: readonly string[];
}

/** A cookie value: valid, forged, truncated, oversized, unicode, injection attempts. */
export function cookieValue({ issued, foreign }: IdPools): fc.Arbitrary<string> {
  const valid = fc.constantFrom(...issued);
  const b64 = (length: number) =>
    fc.string({ unit: fc.constantFrom(...B64.split('')), minLength: length, maxLength: length });
  return fc.oneof(
    { weight: 3, arbitrary: valid },
    { weight: 3, arbitrary: fc.constantFrom(...foreign) },
    // wrong tag on a valid key
    { weight: 3, arbitrary: fc.tuple(valid, b64(43)).map(([id, tag]) => `${id.slice(0, 24)}.${tag}`) },
    // one character changed anywhere (including the tag's spare bits at the end)
    {
      weight: 3,
      arbitrary: fc
        .tuple(valid, fc.nat(67), fc.constantFrom(...B64.split('')))
        .map(([id, at, c]) => id.slice(0, at) + c + id.slice(at + 1)),
    },
    // truncated, or extended by junk
    { weight: 2, arbitrary: fc.tuple(valid, fc.nat(67)).map(([id, n]) => id.slice(0, n)) },
    { weight: 2, arbitrary: fc.tuple(valid, fc.string({ minLength: 1, maxLength: 64 })).map(([id, s]) => id + s) },
    // oversized
    {
      weight: 1,
      arbitrary: fc.tuple(fc.nat(8_000), fc.constantFrom('A', '.', '%41', 'é')).map(([n, c]) => c.repeat(n + 100)),
    },
    // the key alone, the tag alone, the id twice
    { weight: 1, arbitrary: valid.map((id) => id.slice(0, 24)) },
    { weight: 1, arbitrary: valid.map((id) => id.slice(25)) },
    { weight: 1, arbitrary: valid.map((id) => id + id) },
    // a valid id with an injection after it
    {
      weight: 3,
      arbitrary: fc
        .tuple(valid, fc.constantFrom(...NASTY), fc.constantFrom('', 'Set-Cookie: tsession=evil', 'tsession=x', 'X: y'))
        .map(([id, sep, tail]) => id + sep + tail),
    },
    // percent-encoded (valid once decoded), and broken escapes
    { weight: 1, arbitrary: valid.map((id) => encodeURIComponent(id).replace(/A/g, '%41')) },
    { weight: 1, arbitrary: fc.constantFrom('%', '%E0%A4%A', '%ZZ', '%00', '%0d%0a', '%C0%AE') },
    // unicode, control characters, anything
    { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 80 }) },
    { weight: 2, arbitrary: fc.string({ unit: fc.constantFrom(...NASTY, 'a', 'Z', '0'), maxLength: 40 }) },
    { weight: 1, arbitrary: valid.map((id) => `"${id}"`) },
  );
}

/** A cookie name: mostly the session cookie's, spelled right or almost. */
const cookieName = fc.oneof(
  { weight: 8, arbitrary: fc.constant('tsession') },
  {
    weight: 3,
    arbitrary: fc.constantFrom(' tsession', 'tsession ', 'TSESSION', 'tsession\t', 'tsessio', '__Host-tsession'),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
);

/** One `name=value` pair, or a malformed pair. */
export function cookiePair(pools: IdPools): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 8, arbitrary: fc.tuple(cookieName, cookieValue(pools)).map(([name, value]) => `${name}=${value}`) },
    { weight: 1, arbitrary: fc.string({ maxLength: 30 }) },
    { weight: 1, arbitrary: fc.constantFrom('', '=', '==', ';', 'tsession', 'tsession=', '=tsession') },
  );
}

/** A whole Cookie header: up to 12 pairs (often many of the same name), joined oddly. */
export function cookieHeader(pools: IdPools): fc.Arbitrary<string> {
  return fc
    .tuple(
      fc.array(cookiePair(pools), { maxLength: 12 }),
      fc.constantFrom('; ', ';', ';;', ' ; ', ', ', ';\t', '; \r\n '),
    )
    .map(([pairs, separator]) => pairs.join(separator));
}

/** True when `text` holds a character no HTTP header value may carry. */
export function hasHeaderBreak(text: string): boolean {
  return /[\r\n\0]/.test(text);
}
