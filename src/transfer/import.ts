import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { jsonCodec, type SessionCodec } from '../codec/codec.js';
import type { SessionStore } from '../stores/types.js';
import { sessionBatch } from './batch.js';
import { EXPORT_FORMAT_VERSION, type ExportedSession } from './export.js';

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
 * A malformed line is reported with its number and skipped, or, with `strict`, stops
 * the import with {@link ImportLineError}. Valid lines are written in batches
 * (`transfer/batch.ts`), so memory stays flat and a store with a bulk path is fast.
 */
export async function importSessions(
  store: SessionStore,
  input: Readable,
  options: ImportOptions = {},
): Promise<ImportReport> {
  const now = options.now ?? Date.now() / 1000;
  const report: ImportReport = { imported: 0, skipped: 0, problems: [] };
  const batch = sessionBatch(store, now, options.replace ?? false, (imported) => {
    if (imported) report.imported++;
    else report.skipped++;
    options.onProgress?.(report);
  });
  let lineNumber = 0;
  for await (const text of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) {
    lineNumber++;
    if (text.trim() === '') continue;
    const parsed = parseLine(text, options.codec ?? jsonCodec);
    if (typeof parsed === 'string') {
      const problem = { line: lineNumber, message: parsed };
      if (options.strict) {
        await batch.flush(); // the good lines before the bad one are imported, as they were read
        throw new ImportLineError(problem);
      }
      report.problems.push(problem);
      options.onProgress?.(report);
    } else {
      await batch.add(parsed);
    }
  }
  await batch.flush();
  return report;
}

/** The session a line holds, or a message saying what is wrong with it. */
function parseLine(text: string, codec: SessionCodec): ExportedSession | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'not valid JSON';
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  const s = value as Record<string, unknown>;
  if (s.v !== EXPORT_FORMAT_VERSION) return `unknown format version ${JSON.stringify(s.v)}`;
  if (typeof s.key !== 'string' || s.key === '') return '`key` must be a non-empty string';
  for (const field of ['createdAt', 'lastAccess'] as const) {
    if (typeof s[field] !== 'number' || !Number.isFinite(s[field])) return `\`${field}\` must be a number`;
  }
  if (s.expiresAt !== null && (typeof s.expiresAt !== 'number' || !Number.isFinite(s.expiresAt))) {
    return '`expiresAt` must be a number or null';
  }
  if (!Array.isArray(s.entries)) return '`entries` must be an array';
  for (const [i, e] of s.entries.entries()) {
    const entry = e as Record<string, unknown> | null;
    if (
      typeof entry !== 'object' ||
      entry === null ||
      !['pkg', 'key', 'value'].every((f) => typeof entry[f] === 'string')
    ) {
      return `entry ${i} must have string \`pkg\`, \`key\` and \`value\``;
    }
    // A value that does not decode would break every later read of its key: refuse it here.
    try {
      codec.decode(entry.value as string);
    } catch (error) {
      return `entry ${i} (${entry.pkg} › ${entry.key}): the value does not decode: ${(error as Error).message}`;
    }
  }
  return s as unknown as ExportedSession;
}
