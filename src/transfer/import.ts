import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { jsonCodec, type SessionCodec } from '../codec/codec.js';
import type { SessionDataContainer } from '../container/container.js';
import { ConflictError, StoreUnavailableError } from '../errors.js';
import type { SessionCaps, SessionStore } from '../stores/types.js';
import type { ExportedSession } from './export.js';
import { type LineRules, validateLine } from './validate-line.js';

/** A line that could not be imported, with its 1-based number. */
export interface ImportProblem {
  readonly line: number;
  readonly message: string;
}

/** Options of {@link importSessions}. */
export interface ImportOptions {
  /** The time expiry is judged by, in seconds. @default the system clock */
  now?: number;
  /** Stop at the first malformed line instead of reporting it and going on. @default false */
  strict?: boolean;
  /** Replace a session that already exists under the same key, instead of skipping it. @default false */
  replace?: boolean;
  /** The codec the target container decodes with: every imported value must decode with it. @default jsonCodec */
  codec?: SessionCodec;
  /** Called after each line, e.g. for a progress bar. */
  onProgress?: (progress: ImportReport) => void;
  /**
   * The container the sessions are for: its codec decodes every value and its caps
   * (`maxSessionBytes`, `maxPackages`, `maxKeysPerPackage`) bound every line, so an
   * import stores nothing a request could not. Without it, `codec` and the container
   * defaults apply.
   */
  container?: Pick<SessionDataContainer, 'codec' | 'caps'>;
  /**
   * The form of the client keys: `signed` for ids this library issues (24 base64url
   * characters), `thirdParty` for ids made by another party (`thirdParty` id managers).
   * @default 'signed'
   */
  clientKeys?: 'signed' | 'thirdParty';
  /**
   * Import entries of the reserved package `tsession:internal` (the fingerprint binding
   * of bound sessions), for a file you exported yourself. A line holding them is refused
   * otherwise. @default false
   */
  allowInternal?: boolean;
  /** The longest line, in characters. @default 8 × the session byte cap (8 MiB) */
  maxLineLength?: number;
}

/** What an import did. */
export interface ImportReport {
  imported: number;
  /** Sessions already present (without `replace`) or already expired. */
  skipped: number;
  problems: ImportProblem[];
}

/** A malformed line under `strict`. */
export class ImportLineError extends Error {
  readonly line: number;
  constructor(problem: ImportProblem) {
    super(`tsession: line ${problem.line}: ${problem.message}`);
    this.name = 'ImportLineError';
    this.line = problem.line;
  }
}

/**
 * Reads JSON Lines written by `exportSessions` into a store, line by line (SPEC 42).
 * Each line is held to the rules a `Session` holds its writes to (client-key form,
 * package-id and key rules, the reserved package, well-formed Unicode, no repeated
 * entry, times a `Date` can hold, a line-length cap, the container's caps, values that
 * decode). A line that breaks one, or that the store refuses, is reported with its
 * number and skipped, or, with `strict`, stops the import with {@link ImportLineError}.
 * A store that is down stops the import with `StoreUnavailableError`.
 */
export async function importSessions(
  store: SessionStore,
  input: Readable,
  options: ImportOptions = {},
): Promise<ImportReport> {
  const now = options.now ?? Date.now() / 1000;
  const rules = lineRules(options);
  const report: ImportReport = { imported: 0, skipped: 0, problems: [] };
  let lineNumber = 0;
  const refuse = (message: string) => {
    const problem = { line: lineNumber, message };
    if (options.strict) throw new ImportLineError(problem);
    report.problems.push(problem);
  };
  for await (const text of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) {
    lineNumber++;
    if (text.trim() === '') continue;
    const parsed = validateLine(text, rules);
    if (typeof parsed === 'string') refuse(parsed);
    else {
      const outcome = await writeOrRefusal(store, parsed, now, options.replace ?? false, rules.caps);
      if (typeof outcome === 'string') refuse(outcome);
      else if (outcome) report.imported++;
      else report.skipped++;
    }
    options.onProgress?.(report);
  }
  return report;
}

/** The rules every line is held to, from the options (SPEC 45). */
function lineRules(options: ImportOptions): LineRules {
  const container = options.container;
  const caps = container?.caps ?? DEFAULT_CAPS;
  return {
    codec: container?.codec ?? options.codec ?? jsonCodec,
    clientKeys: options.clientKeys ?? 'signed',
    allowInternal: options.allowInternal ?? false,
    maxLineLength: options.maxLineLength ?? 8 * caps.maxBytes,
    caps,
  };
}

/** A `SessionDataContainer`'s default caps, for an import given no container. */
const DEFAULT_CAPS: SessionCaps = { maxBytes: 1_048_576, maxPackages: 100, maxKeysPerPackage: 1000 };

/**
 * Writes one validated session: true when imported, false when skipped, or the reason
 * the store refused it. A refusal is that line's problem only; a store that is down
 * (`StoreUnavailableError`) stops the import, since every later line would fail too.
 */
async function writeOrRefusal(
  store: SessionStore,
  session: ExportedSession,
  now: number,
  replace: boolean,
  caps: SessionCaps,
): Promise<boolean | string> {
  try {
    return await writeSession(store, session, now, replace, caps);
  } catch (error) {
    if (error instanceof StoreUnavailableError || !(error instanceof Error)) throw error;
    return `the store refused the session: ${error.message}`;
  }
}

async function writeSession(
  store: SessionStore,
  session: ExportedSession,
  now: number,
  replace: boolean,
  caps: SessionCaps,
): Promise<boolean> {
  if (session.expiresAt !== null && now > session.expiresAt) return false;
  if (replace) await store.destroy(session.key);
  try {
    await store.commit(
      session.key,
      {
        create: true,
        createdAt: session.createdAt,
        touch: { lastAccess: session.lastAccess, expiresAt: session.expiresAt },
        writes: session.entries.map(({ pkg, key, value }) => ({ pkg, key, value })),
        // the store holds the record to the caps too, as it does a request's commit
        caps,
      },
      now,
    );
    return true;
  } catch (error) {
    if (error instanceof ConflictError && error.reason === 'exists') return false;
    throw error;
  }
}
