import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { SessionConfigError } from '../errors.js';

/** Bytes of CSPRNG randomness in a client id's key: 144 bits, 24 base64url characters. */
const KEY_BYTES = 18;
/** Characters of a key (base64url of {@link KEY_BYTES}) and of a whole `key.tag` id. */
const KEY_LENGTH = 24;
const ID_LENGTH = 68;
const KEY_PATTERN = /^[A-Za-z0-9_-]{24}$/;
const TAG_PATTERN = /^[A-Za-z0-9_-]{43}$/;
const MIN_SECRET_LENGTH = 32;
/** Verified ids remembered per signer (about 200 bytes each). */
const RECENT_IDS = 10_000;

/**
 * True when `key` has the form of the random part of a signed client id (24 base64url
 * characters): the only keys a `Session` under a signing id manager commits under.
 */
export function isSignedClientKey(key: unknown): boolean {
  return typeof key === 'string' && KEY_PATTERN.test(key);
}

/** A third party's id, used as sent (`thirdParty`): 1 to 256 printable ASCII characters, no space. */
const THIRD_PARTY_ID = /^[\x21-\x7e]{1,256}$/;

/** True when `key` has the form of an id made by another party (`thirdParty`), which is also its store key. */
export function isThirdPartyClientKey(key: unknown): boolean {
  return typeof key === 'string' && THIRD_PARTY_ID.test(key);
}

/** The random part of a signed id `<key>.<tag>`, what stores are keyed by (the text before the first dot). */
export function clientKeyOf(id: string): string {
  const dot = id.indexOf('.');
  return dot < 0 ? id : id.slice(0, dot);
}

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
   * Ids that verified recently under the first secret, so a returning client costs one
   * hash-table lookup instead of an HMAC. Keyed by the whole id: a forged tag is another
   * string, which misses (a hash lookup compares no text unless the seeded hashes
   * collide), and then pays the HMAC and the constant-time comparison. Bounded, oldest
   * dropped first; a miss only costs the HMAC. The strings kept are copies, never slices
   * of the request's Cookie header, which would keep the whole header alive.
   */
  readonly #recent = new Map<string, VerifiedId>();

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
    if (id === undefined || id.length !== ID_LENGTH || id[KEY_LENGTH] !== '.') return undefined;
    const recent = this.#recent.get(id);
    if (recent !== undefined) return recent;
    const parts = splitClientId(id);
    if (parts === undefined) return undefined;
    const { key, tag: given } = parts;
    // Compare the text, not the decoded bytes: the tag's last character carries two
    // unused bits, so several spellings decode to the same bytes (a forgeable variant).
    const givenText = Buffer.from(given, 'latin1');
    for (let i = 0; i < this.#secrets.length; i++) {
      const expected = Buffer.from(tag(this.#secrets[i] as Buffer, key), 'latin1');
      if (timingSafeEqual(expected, givenText)) {
        return i === 0 ? this.#remember(id) : { id: this.sign(key), key: copy(key), stale: true };
      }
    }
    return undefined;
  }

  #remember(id: string): VerifiedId {
    const own = copy(id);
    const verified: VerifiedId = Object.freeze({ id: own, key: own.slice(0, KEY_LENGTH), stale: false });
    if (this.#recent.size >= RECENT_IDS) this.#recent.delete(this.#recent.keys().next().value as string);
    this.#recent.set(own, verified);
    return verified;
  }
}

/** A string with storage of its own (not a slice of a longer one), for ASCII text. */
function copy(text: string): string {
  return Buffer.from(text, 'latin1').toString('latin1');
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
  // Never echo the value: a mistyped secret is still a secret.
  if (secret != null && typeof secret !== 'string' && !Array.isArray(secret)) {
    throw new SessionConfigError(
      `${owner}'s \`secret\` is ${typeof secret === 'object' ? 'an object' : `a ${typeof secret}`}; pass a string of at least ${MIN_SECRET_LENGTH} random characters (e.g. process.env.SESSION_SECRET), or an array of them to rotate`,
    );
  }
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
