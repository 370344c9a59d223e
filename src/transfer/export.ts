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

/** The JSON Lines line for one session, without its newline. */
export function exportLine(session: ScannedSession): string {
  const line: ExportedSession = {
    v: EXPORT_FORMAT_VERSION,
    key: session.key,
    createdAt: session.createdAt,
    lastAccess: session.lastAccess,
    expiresAt: session.expiresAt,
    entries: session.entries.map(({ pkg, key, value }) => ({ pkg, key, value })),
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
