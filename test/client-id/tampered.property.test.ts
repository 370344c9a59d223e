import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CookieClientIdManager } from '../../src/index.js';
import { countCalls, memoryManager, request, SECRET } from '../helpers.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.';
/** Characters a mutation may bring in: the id alphabet and a few others that are cookie-safe and not percent-escapes. */
const char = fc.constantFrom(...`${ALPHABET}!*~+`.split(''));

const manager = new CookieClientIdManager({ secret: SECRET });
const ids = Array.from({ length: 16 }, () => manager.issue(request()).id);
const readCookie = (raw: string) => manager.read(request({ cookie: `tsession=${raw}` }));

/** One edit of a string: replace, insert or delete a character, swap two, truncate, or change a letter's case. */
const mutation = fc.oneof(
  fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), c: char }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), c: char }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('swap' as const), at: fc.nat(), to: fc.nat() }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('case' as const), at: fc.nat() }),
  // the tag's last character carries unused bits: mutate it often
  fc.record({ kind: fc.constant('replace' as const), at: fc.constant(67), c: char }),
);

type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

function apply(id: string, m: Mutation): string {
  if (id.length === 0) return m.kind === 'insert' || m.kind === 'replace' ? m.c : id;
  const at = m.at % id.length;
  const chars = id.split('');
  switch (m.kind) {
    case 'replace':
      chars[at] = m.c;
      break;
    case 'insert':
      chars.splice(at, 0, m.c);
      break;
    case 'delete':
      chars.splice(at, 1);
      break;
    case 'swap': {
      const to = m.to % id.length;
      [chars[at], chars[to]] = [chars[to] as string, chars[at] as string];
      break;
    }
    case 'truncate':
      return id.slice(0, at);
    case 'case': {
      const c = chars[at] as string;
      chars[at] = c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase();
      break;
    }
  }
  return chars.join('');
}

describe('SPEC 6-7: tampered ids (property)', () => {
  it('SPEC 6: random mutations of a valid id never verify', () => {
    fc.assert(
      fc.property(fc.constantFrom(...ids), fc.array(mutation, { minLength: 1, maxLength: 4 }), (id, edits) => {
        const mutated = edits.reduce(apply, id);
        fc.pre(mutated !== id);
        expect(readCookie(mutated)).toBeUndefined();
      }),
      { numRuns: 5_000 },
    );
  });

  it('SPEC 6: random strings never verify, and never cause a store read', async () => {
    const { manager: sessions, store } = memoryManager();
    const calls = countCalls(store);
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.string({ maxLength: 100 }), fc.stringMatching(/^[A-Za-z0-9_-]{24}\.[A-Za-z0-9_-]{43}$/)),
        async (raw) => {
          expect(manager.read(request({ cookie: `tsession=${raw}` }))).toBeUndefined();
          expect(manager.read(request({ url: `/?tsession=${encodeURIComponent(raw)}` }))).toBeUndefined();
          const session = sessions.open(request({ cookie: `tsession=${raw}` }));
          expect((await session.get('p')).size).toBe(0);
        },
      ),
      { numRuns: 2_000 },
    );
    expect(calls.load).toBe(0);
  });

  it('SPEC 7: the unmutated ids do verify (the property above can fail)', () => {
    for (const id of ids) expect(readCookie(id)?.id).toBe(id);
  });
});
