/**
 * How a session is laid out in Redis: ONE hash per client key, named
 * `<prefix>{<clientKey>}`. The braces are a Cluster hash tag, so every field of a
 * session lives in one hash slot and one Lua script can change it atomically.
 *
 * Fields of the hash:
 * - `m`: the record's metadata, `1:<createdAt>:<lastAccess>:<expiresAt>` (seconds as
 *   JavaScript prints them; `expiresAt` empty for "never"). The leading `1` is the
 *   format version, so a later layout can be told apart.
 * - `e:<pkg>\0<key>`: one field per entry, `<version>:<value>`. `\0` cannot occur in a
 *   package id or key, and the `e:` prefix keeps entries apart from metadata.
 * - `s`: the record's commit sequence; each commit that writes entries takes the next
 *   number as the version of every entry it writes.
 * - `b`, `p` and `k:<pkg>`: the record's size (`RecordMeasure` in `stores/record.ts`):
 *   UTF-8 bytes of its entries, packages holding keys, and keys per package, kept by every
 *   commit so the caps are checked without reading every entry.
 *
 * Beside the hashes, the expiry index (see {@link expiryIndexKey}) lists every record that
 * expires, by its `expiresAt`; the commit, destroy, retire and sweep scripts keep it.
 *
 * The metadata's leading `1` is the format marker: version 1 is the first released
 * layout (nothing before it was published); any later change of a stored shape bumps it.
 *
 * @module
 */
import { entryId, isLive } from '../record.js';
import type { ScannedSession, StoredEntry, StoredSession } from '../types.js';

/** The hash field holding the record's metadata. */
export const META_FIELD = 'm';
/** The prefix of every entry field. */
export const ENTRY_PREFIX = 'e:';
/** The current format version, first in the metadata field. */
export const FORMAT_VERSION = '1';

/** The Redis key of a client's hash. */
export function redisKey(prefix: string, clientKey: string): string {
  return `${prefix}{${clientKey}}`;
}

/**
 * The Redis key of a principal's index (sessions by user): a sorted set of the client keys
 * of the records holding that principal, maybe more (readers check each), scored by when
 * each was added. A key of its own, outside the `<prefix>{*}` pattern of records; on
 * Cluster it lives in one slot.
 */
export function principalSetKey(prefix: string, encodedPrincipal: string): string {
  return `${prefix}principal:{${encodedPrincipal}}`;
}

/**
 * The expiry index `<prefix>{<tag>}:expiry`: a sorted set of client keys scored by their
 * `expiresAt`. On Cluster there is one per hash slot (`tag` hashes to the slot, see
 * `slots.ts`), so a record and its index entry are changed by one script; standalone
 * Redis has one (`tag` empty). It never matches {@link matchPattern}: it does not end in `}`.
 */
export function expiryIndexKey(prefix: string, tag: string): string {
  return `${prefix}{${tag}}:expiry`;
}

/** The client key inside a Redis key made by {@link redisKey}, or undefined for a foreign key. */
export function clientKeyOf(prefix: string, key: string): string | undefined {
  if (!key.startsWith(`${prefix}{`) || !key.endsWith('}')) return undefined;
  return key.slice(prefix.length + 1, -1);
}

/** A SCAN MATCH pattern for every key of the store, with the prefix's glob characters escaped. */
export function matchPattern(prefix: string): string {
  return `${prefix.replace(/[*?[\]\\]/g, '\\$&')}{*}`;
}

/** The hash field of one entry. */
export function entryField(pkg: string, key: string): string {
  return ENTRY_PREFIX + entryId(pkg, key);
}

/** The metadata field's value. */
export function encodeMeta(createdAt: number, lastAccess: number, expiresAt: number | null): string {
  return `${FORMAT_VERSION}:${createdAt}:${lastAccess}:${expiresAt ?? ''}`;
}

/** Parsed metadata, or undefined when the field is missing or of a format this version does not know. */
export function decodeMeta(meta: string | undefined): Omit<StoredSession, 'entries'> | undefined {
  const parts = meta?.split(':');
  if (parts?.length !== 4 || parts[0] !== FORMAT_VERSION) return undefined;
  const [, createdAt, lastAccess, expiresAt] = parts as [string, string, string, string];
  return {
    createdAt: Number(createdAt),
    lastAccess: Number(lastAccess),
    expiresAt: expiresAt === '' ? null : Number(expiresAt),
  };
}

/**
 * The live record in an HGETALL reply, or undefined when the hash is empty, its
 * metadata unreadable, or it has expired at `now`.
 */
export function decodeRecord(hash: Record<string, string>, now: number): StoredSession | undefined {
  const meta = decodeMeta(hash[META_FIELD]);
  if (meta === undefined || !isLive(meta, now)) return undefined;
  const entries: StoredEntry[] = [];
  for (const [field, raw] of Object.entries(hash)) {
    if (!field.startsWith(ENTRY_PREFIX)) continue;
    const nul = field.indexOf('\0', ENTRY_PREFIX.length);
    const colon = raw.indexOf(':');
    if (nul < 0 || colon < 0) continue;
    entries.push({
      pkg: field.slice(ENTRY_PREFIX.length, nul),
      key: field.slice(nul + 1),
      version: Number(raw.slice(0, colon)),
      value: raw.slice(colon + 1),
    });
  }
  return { ...meta, entries };
}

/** A scanned record with its client key, or undefined when it is not live. */
export function decodeScanned(
  prefix: string,
  key: string,
  hash: Record<string, string>,
  now: number,
): ScannedSession | undefined {
  const clientKey = clientKeyOf(prefix, key);
  const record = clientKey === undefined ? undefined : decodeRecord(hash, now);
  return record && clientKey !== undefined ? { key: clientKey, ...record } : undefined;
}
