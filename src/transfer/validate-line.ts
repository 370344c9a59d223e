import { isSignedClientKey, isThirdPartyClientKey } from '../client-id/signing.js';
import type { SessionCodec } from '../codec/codec.js';
import { SessionTooLargeError } from '../errors.js';
import { INTERNAL_PACKAGE, keyProblem, packageIdProblem } from '../session/names.js';
import { checkCaps, EMPTY_MEASURE, measureEntries } from '../stores/record.js';
import type { SessionCaps } from '../stores/types.js';
import { EXPORT_FORMAT_VERSION, type ExportedSession } from './export.js';

/**
 * What one imported line must satisfy: the rules a `Session` holds its writes to, so an
 * import can store nothing a request could not have stored (SPEC 45; issue 11, finding 5).
 */
export interface LineRules {
  /** Decodes every value: a value that does not decode would break every later read of its key. */
  readonly codec: SessionCodec;
  /** `signed`: keys of ids this library signs (24 base64url characters); `thirdParty`: ids made elsewhere. */
  readonly clientKeys: 'signed' | 'thirdParty';
  /** Import entries of the reserved internal package (the fingerprint binding) instead of refusing the line. */
  readonly allowInternal: boolean;
  /** The longest line, in UTF-16 code units, read before it is parsed. */
  readonly maxLineLength: number;
  /** The container's caps, counted as the stores count them (`stores/record.ts`). */
  readonly caps: SessionCaps;
}

/**
 * The largest time a line may hold, in seconds: the last second a `Date` can represent
 * (8.64e15 ms). A later time breaks every place that shows it (the admin page, the CLI).
 */
export const MAX_TIME = 8.64e12;

type Entry = ExportedSession['entries'][number];

/** The session a line holds, or a message saying what is wrong with it. */
export function validateLine(text: string, rules: LineRules): ExportedSession | string {
  if (text.length > rules.maxLineLength) {
    return `the line is ${text.length} characters long, over the limit of ${rules.maxLineLength}`;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'not valid JSON';
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  const s = value as Record<string, unknown>;
  if (s.v !== EXPORT_FORMAT_VERSION) return `unknown format version ${shown(s.v)}`;
  const problem = clientKeyProblem(s.key, rules) ?? timesProblem(s) ?? entriesProblem(s.entries, rules);
  return problem ?? (s as unknown as ExportedSession);
}

function clientKeyProblem(key: unknown, rules: LineRules): string | undefined {
  if (typeof key !== 'string' || key === '') return '`key` must be a non-empty string';
  if (rules.clientKeys === 'signed' && !isSignedClientKey(key)) {
    return `\`key\` ${shown(key)} is not the key of a signed client id (24 base64url characters); import ids made elsewhere with \`clientKeys: 'thirdParty'\``;
  }
  if (rules.clientKeys === 'thirdParty' && !isThirdPartyClientKey(key)) {
    return `\`key\` ${shown(key)} is not a third-party client id (1 to 256 printable ASCII characters)`;
  }
  return undefined;
}

function timesProblem(s: Record<string, unknown>): string | undefined {
  for (const field of ['createdAt', 'lastAccess'] as const) {
    if (typeof s[field] !== 'number' || !Number.isFinite(s[field])) return `\`${field}\` must be a number`;
    if (!inRange(s[field])) return `\`${field}\` ${s[field]} is outside 0 to ${MAX_TIME} seconds`;
  }
  if (s.expiresAt !== null && (typeof s.expiresAt !== 'number' || !Number.isFinite(s.expiresAt))) {
    return '`expiresAt` must be a number or null';
  }
  if (s.expiresAt !== null && !inRange(s.expiresAt))
    return `\`expiresAt\` ${s.expiresAt} is outside 0 to ${MAX_TIME} seconds`;
  return undefined;
}

function inRange(seconds: number): boolean {
  return seconds >= 0 && seconds <= MAX_TIME;
}

function entriesProblem(entries: unknown, rules: LineRules): string | undefined {
  if (!Array.isArray(entries)) return '`entries` must be an array';
  const seen = new Set<string>();
  for (const [i, e] of entries.entries()) {
    const problem = entryProblem(e, rules);
    if (problem !== undefined) return `entry ${i}: ${problem}`;
    const { pkg, key } = e as Entry;
    // NUL is refused in both names, so it separates them without ambiguity.
    const id = `${pkg}\0${key}`;
    if (seen.has(id)) return `entry ${i} (${shown(pkg)} › ${shown(key)}) repeats an earlier entry`;
    seen.add(id);
  }
  return capsProblem(entries as Entry[], rules);
}

function entryProblem(e: unknown, rules: LineRules): string | undefined {
  const entry = e as Record<string, unknown> | null;
  if (
    typeof entry !== 'object' ||
    entry === null ||
    !['pkg', 'key', 'value'].every((f) => typeof entry[f] === 'string')
  ) {
    return 'must have string `pkg`, `key` and `value`';
  }
  const { pkg, key, value } = entry as unknown as Entry;
  const internal = pkg === INTERNAL_PACKAGE;
  if (internal && !rules.allowInternal) {
    return `the package id ${INTERNAL_PACKAGE} is reserved; pass \`allowInternal\` to import a file you exported yourself`;
  }
  const nameProblem = (internal ? undefined : packageIdProblem(pkg)) ?? keyProblem(key);
  if (nameProblem !== undefined) return nameProblem;
  try {
    rules.codec.decode(value);
  } catch (error) {
    return `(${shown(pkg)} › ${shown(key)}) the value does not decode: ${(error as Error).message}`;
  }
  return undefined;
}

/**
 * The container's caps, measured and checked by the very functions the stores use
 * (`measureEntries`, `checkCaps`), as for a new record: UTF-8 bytes of package ids, keys
 * and values; packages (the internal one not counted); keys per package.
 */
function capsProblem(entries: readonly Entry[], rules: LineRules): string | undefined {
  const { measure, keys } = measureEntries(entries);
  const perPackage = new Map([...keys].map(([pkg, n]) => [pkg, { before: 0, after: n }]));
  try {
    checkCaps(rules.caps, EMPTY_MEASURE, { measure, keys: perPackage });
    return undefined;
  } catch (error) {
    if (!(error instanceof SessionTooLargeError)) throw error;
    return `the session holds ${error.size} ${error.what}, over the container's cap of ${error.limit}`;
  }
}

/** A value for a message: JSON, which escapes NUL and lone surrogates, cut short. */
function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}
