import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { jsonCodec, type SessionCodec } from '../codec/codec.js';
import type { SessionDataContainer } from '../container/container.js';
import type { SessionCaps, SessionStore } from '../stores/types.js';
import { sessionBatch } from './batch.js';
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
  /** Called as lines are read and sessions written (a batch at a time), e.g. for a progress bar. */
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
 * number and skipped, or, with `strict`, stops the import with {@link ImportLineError}
 * (the good lines before it imported). A store that is down stops the import with
 * `StoreUnavailableError`. Valid lines are written in batches (`transfer/batch.ts`), so
 * memory stays flat and a store with a bulk path (`importBatch`) is fast.
 */
export async function importSessions(
  store: SessionStore,
  input: Readable,
  options: ImportOptions = {},
): Promise<ImportReport> {
  const now = options.now ?? Date.now() / 1000;
  const rules = lineRules(options);
  const report: ImportReport = { imported: 0, skipped: 0, problems: [] };
  const refuse = (line: number, message: string) => {
    const problem = { line, message };
    if (options.strict) throw new ImportLineError(problem);
    report.problems.push(problem);
  };
  const batch = sessionBatch(store, now, options.replace ?? false, rules.caps, (line, outcome) => {
    if (typeof outcome === 'string') refuse(line, outcome);
    else if (outcome) report.imported++;
    else report.skipped++;
    options.onProgress?.(report);
  });
  let lineNumber = 0;
  for await (const text of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) {
    lineNumber++;
    if (text.trim() === '') continue;
    const parsed = validateLine(text, rules);
    if (typeof parsed !== 'string') {
      await batch.add(parsed, lineNumber);
      continue;
    }
    // The good lines before a bad one are imported, as they were read, before strict stops.
    if (options.strict) await batch.flush();
    refuse(lineNumber, parsed);
    options.onProgress?.(report);
  }
  await batch.flush();
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
