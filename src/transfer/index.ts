/**
 * `tsession/transfer`: sessions out of and into any store as JSON Lines, streamed (what
 * `tsession export` and `tsession import` run).
 *
 * @module
 */
export { EXPORT_FORMAT_VERSION, type ExportedSession, exportLine, exportSessions } from './export.js';
export {
  ImportLineError,
  type ImportOptions,
  type ImportProblem,
  type ImportReport,
  importSessions,
} from './import.js';
