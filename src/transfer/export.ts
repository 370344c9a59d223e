import type { ScannedSession, SessionStore, StoredEntry } from '../stores/types.js';

/** The version of the JSON Lines format; written on every line so readers can refuse what they don't know. */
export const EXPORT_FORMAT_VERSION = 1;

/**
 * One exported session: one line of JSON. Values stay in the codec's encoding, so a
 * round trip is exact for every type the codec knows, whatever store it goes through.
 */
export interface ExportedSession {
  readonly v: typeof EXPORT_FORMAT_VERSION;
  readonly key: string;
  readonly createdAt: number;
  readonly lastAccess: number;
  readonly expiresAt: number | null;
  readonly entries: readonly Pick<StoredEntry, 'pkg' | 'key' | 'value'>[];
}

/**
 * The JSON Lines line for one session, without its newline. Entries are written in one
 * canonical order, by package id then key in code-point order, whatever order the store
 * keeps them in: so the same sessions exported from any store give the same lines.
 */
export function exportLine(session: ScannedSession): string {
  const line: ExportedSession = {
    v: EXPORT_FORMAT_VERSION,
    key: session.key,
    createdAt: session.createdAt,
    lastAccess: session.lastAccess,
    expiresAt: session.expiresAt,
    entries: [...session.entries].sort(canonicalOrder).map(({ pkg, key, value }) => ({ pkg, key, value })),
  };
  return JSON.stringify(line);
}

/**
 * Streams every live session of a store as JSON Lines (SPEC 42): expired sessions are
 * left out, and memory stays flat however many sessions there are.
 *
 * @example
 * ```ts
 * await pipeline(Readable.from(exportSessions(store, Date.now() / 1000)), createWriteStream('sessions.jsonl'));
 * ```
 */
export async function* exportSessions(store: SessionStore, now: number): AsyncGenerator<string> {
  for await (const session of store.scan(now)) yield `${exportLine(session)}\n`;
}

/** By package id, then key, comparing code points (not UTF-16 code units, not the locale). */
function canonicalOrder(a: Pick<StoredEntry, 'pkg' | 'key'>, b: Pick<StoredEntry, 'pkg' | 'key'>): number {
  return compareCodePoints(a.pkg, b.pkg) || compareCodePoints(a.key, b.key);
}

function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0;
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = (x[i] as string).codePointAt(0)! - (y[i] as string).codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}
