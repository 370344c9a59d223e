import { inspect } from 'node:util';
import { jsonCodec } from '../codec/codec.js';
import type { ScannedSession, SessionStore, StoredSession } from '../stores/types.js';

/** Per-package figures over the live sessions of a store. */
export interface PackageStats {
  sessions: number;
  keys: number;
  bytes: number;
}

/** What `tsession stats` reports. */
export interface StoreStats {
  live: number;
  /** Live sessions that expire within `soonSeconds`. */
  expiringSoon: number;
  soonSeconds: number;
  bytes: number;
  packages: Record<string, PackageStats>;
}

/** Scans the live sessions once and sums them up, per package too. */
export async function storeStats(store: SessionStore, now: number, soonSeconds = 300): Promise<StoreStats> {
  const stats: StoreStats = { live: 0, expiringSoon: 0, soonSeconds, bytes: 0, packages: {} };
  for await (const session of store.scan(now)) {
    stats.live++;
    if (session.expiresAt !== null && session.expiresAt - now <= soonSeconds) stats.expiringSoon++;
    const seen = new Set<string>();
    for (const entry of session.entries) {
      const bytes = entry.key.length + entry.value.length;
      const pkg = (stats.packages[entry.pkg] ??= { sessions: 0, keys: 0, bytes: 0 });
      if (!seen.has(entry.pkg)) pkg.sessions++;
      seen.add(entry.pkg);
      pkg.keys++;
      pkg.bytes += bytes;
      stats.bytes += bytes;
    }
  }
  return stats;
}

/** One line of `tsession list`. */
export function summaryLine(session: ScannedSession): string {
  const packages = [...new Set(session.entries.map((e) => e.pkg))].join(',') || '-';
  return [session.key, isoTime(session.lastAccess), expiryText(session.expiresAt), packages].join('\t');
}

/** A session's data as plain JSON: package → key → value in the codec's tagged JSON form. */
export function sessionJson(key: string, session: StoredSession): Record<string, unknown> {
  const packages: Record<string, Record<string, unknown>> = {};
  for (const entry of session.entries) {
    (packages[entry.pkg] ??= {})[entry.key] = JSON.parse(entry.value);
  }
  return {
    key,
    createdAt: session.createdAt,
    lastAccess: session.lastAccess,
    expiresAt: session.expiresAt,
    packages,
  };
}

/** A session for people: its times, then each package's values decoded and inspected. */
export function sessionText(key: string, session: StoredSession): string {
  const lines = [
    `session     ${key}`,
    `created     ${isoTime(session.createdAt)}`,
    `last access ${isoTime(session.lastAccess)}`,
    `expires     ${expiryText(session.expiresAt)}`,
  ];
  const byPackage = new Map<string, StoredSession['entries'][number][]>();
  for (const entry of session.entries) byPackage.set(entry.pkg, [...(byPackage.get(entry.pkg) ?? []), entry]);
  for (const [pkg, entries] of byPackage) {
    lines.push('', `[${pkg}]`);
    for (const entry of entries) {
      lines.push(`  ${entry.key} = ${inspect(jsonCodec.decode(entry.value), { depth: 4, breakLength: 100 })}`);
    }
  }
  return lines.join('\n');
}

function isoTime(seconds: number): string {
  return new Date(seconds * 1000).toISOString();
}

function expiryText(expiresAt: number | null): string {
  return expiresAt === null ? 'never' : isoTime(expiresAt);
}
