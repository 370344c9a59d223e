import type { StoredEntry, StoredSession } from '../types.js';

/**
 * The format marker every blob carries, so a foreign session in a shared store is never
 * misread. `tsession/1` is the first released shape (nothing before it was published);
 * any later change of the blob's shape bumps it.
 */
export const BLOB_FORMAT = 'tsession/1';

/** Seconds a record with no expiry (`expiresAt: null`) is kept by the underlying store: 100 years. */
export const NEVER_SECONDS = 100 * 365 * 86_400;

/**
 * One client's record as one express-session "session": tsession's record, plus the
 * `cookie` that express-session stores read to set their own expiry (connect-redis
 * and connect-pg-simple read `cookie.expires`, memorystore `cookie.maxAge`).
 */
export interface SessionBlob {
  readonly format: typeof BLOB_FORMAT;
  readonly createdAt: number;
  readonly lastAccess: number;
  readonly expiresAt: number | null;
  readonly entries: readonly StoredEntry[];
  /** The record's commit sequence, the number of its last commit with entry writes (see `StoredEntry.version`). */
  readonly seq: number;
  readonly cookie: { readonly originalMaxAge: number; readonly maxAge: number; readonly expires: string };
}

/** A record as kept in a blob: the stored session and its commit sequence. */
export interface BlobRecord extends StoredSession {
  /** The record's commit sequence: the number of its last commit with entry writes. */
  readonly seq: number;
}

/**
 * Builds the blob of a record. The underlying store keeps it for `expiresAt - now`
 * plus `graceSeconds`, counted on the system clock since that is the clock the
 * underlying store expires by; liveness itself is always decided from `expiresAt`.
 */
export function toBlob(record: BlobRecord, now: number, graceSeconds: number): SessionBlob {
  const ttlSeconds = record.expiresAt === null ? NEVER_SECONDS : Math.max(2, record.expiresAt - now + graceSeconds);
  const ttlMs = Math.ceil(ttlSeconds * 1000);
  return {
    format: BLOB_FORMAT,
    createdAt: record.createdAt,
    lastAccess: record.lastAccess,
    expiresAt: record.expiresAt,
    entries: record.entries.map(({ pkg, key, value, version }) => ({ pkg, key, value, version })),
    seq: record.seq,
    cookie: { originalMaxAge: ttlMs, maxAge: ttlMs, expires: new Date(Date.now() + ttlMs).toISOString() },
  };
}

/** The record in a blob the underlying store returned, or undefined when it is not a tsession blob. */
export function fromBlob(value: unknown): BlobRecord | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const blob = value as Partial<SessionBlob>;
  if (blob.format !== BLOB_FORMAT || !Array.isArray(blob.entries) || typeof blob.seq !== 'number') return undefined;
  return {
    createdAt: Number(blob.createdAt),
    lastAccess: Number(blob.lastAccess),
    expiresAt: blob.expiresAt ?? null,
    entries: blob.entries,
    seq: blob.seq,
  };
}
