import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { SessionConfigError } from '../errors.js';

/** Bytes of CSPRNG randomness in a client id's key: 144 bits, 24 base64url characters. */
const KEY_BYTES = 18;
const KEY_PATTERN = /^[A-Za-z0-9_-]{24}$/;
const TAG_PATTERN = /^[A-Za-z0-9_-]{43}$/;
const MIN_SECRET_LENGTH = 32;
/** Verified keys remembered per signer (about 100 bytes each). */
const RECENT_IDS = 10_000;

/** A client id whose tag verified. */
export interface VerifiedId {
  /** The full id as the client sends it: `<key>.<tag>`. */
  id: string;
  /** The random part: what the stores are keyed by. */
  key: string;
  /** True when an older secret verified it, so the id should be re-sent signed by the first. */
  stale: boolean;
}

/**
 * Makes and verifies signed client ids of the form `<key>.<tag>`, where `key` is 144
 * random bits and `tag` is HMAC-SHA-256 over the key. The first secret signs; every
 * secret verifies, so secrets can be rotated without logging anybody out.
 */
export class IdSigner {
  readonly #secrets: readonly Buffer[];
  /**
   * Tags (under the first secret) of keys that verified recently, so a returning client
   * costs a constant-time comparison instead of an HMAC. Keyed by the random part, which
   * an attacker cannot guess; bounded, oldest dropped first; a miss only costs the HMAC.
   */
  readonly #recent = new Map<string, Buffer>();

  constructor(secret: string | readonly string[] | undefined, owner: string) {
    this.#secrets = checkSecrets(secret, owner).map((s) => Buffer.from(s, 'utf8'));
  }

  /** A fresh signed id. */
  create(): VerifiedId {
    const key = randomBytes(KEY_BYTES).toString('base64url');
    return { id: this.sign(key), key, stale: false };
  }

  /** `key.tag` for a key, signed with the first secret. */
  sign(key: string): string {
    return `${key}.${tag(this.#secrets[0] as Buffer, key)}`;
  }

  /** The verified id, or undefined for anything malformed, truncated, tampered or foreign. */
  verify(id: string | undefined): VerifiedId | undefined {
    const parts = id === undefined ? undefined : splitClientId(id);
    if (id === undefined || parts === undefined) return undefined;
    const { key, tag: given } = parts;
    // Compare the text, not the decoded bytes: the tag's last character carries two
    // unused bits, so several spellings decode to the same bytes (a forgeable variant).
    const givenText = Buffer.from(given, 'latin1');
    const cached = this.#recent.get(key);
    if (cached && timingSafeEqual(cached, givenText)) return { id, key, stale: false };
    for (let i = 0; i < this.#secrets.length; i++) {
      const expected = Buffer.from(tag(this.#secrets[i] as Buffer, key), 'latin1');
      if (timingSafeEqual(expected, givenText)) {
        if (i === 0) this.#remember(key, expected);
        return { id: i === 0 ? id : this.sign(key), key, stale: i > 0 };
      }
    }
    return undefined;
  }

  #remember(key: string, expected: Buffer): void {
    if (this.#recent.size >= RECENT_IDS) this.#recent.delete(this.#recent.keys().next().value as string);
    this.#recent.set(key, expected);
  }
}

/**
 * The two parts of a text shaped like a client id, `<key>.<tag>` (24 and 43 base64url
 * characters), without checking the tag; undefined for any other text. Tools use it to
 * tell a full client id from a bare store key.
 */
export function splitClientId(id: string): { key: string; tag: string } | undefined {
  const dot = id.indexOf('.');
  if (dot === -1) return undefined;
  const key = id.slice(0, dot);
  const mac = id.slice(dot + 1);
  return KEY_PATTERN.test(key) && TAG_PATTERN.test(mac) ? { key, tag: mac } : undefined;
}

function tag(secret: Buffer, key: string): string {
  return createHmac('sha256', secret).update(key).digest('base64url');
}

function checkSecrets(secret: string | readonly string[] | undefined, owner: string): string[] {
  const secrets = typeof secret === 'string' ? [secret] : [...(secret ?? [])];
  if (secrets.length === 0) {
    throw new SessionConfigError(
      `${owner} needs a \`secret\`: pass at least ${MIN_SECRET_LENGTH} random characters, e.g. from \`openssl rand -base64 48\`, or a list of them to rotate`,
    );
  }
  for (const [i, s] of secrets.entries()) {
    if (typeof s !== 'string' || s.length < MIN_SECRET_LENGTH) {
      throw new SessionConfigError(
        `${owner}'s secret #${i + 1} is ${typeof s === 'string' ? `${s.length} characters` : 'not a string'}; use at least ${MIN_SECRET_LENGTH} random characters`,
      );
    }
  }
  return secrets;
}
