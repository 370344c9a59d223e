export { EXPORT_FORMAT_VERSION, type ExportedSession, exportLine, exportSessions } from './export.js';
export {
  ImportLineError,
  type ImportOptions,
  type ImportProblem,
  type ImportReport,
  importSessions,
} from './import.js';
