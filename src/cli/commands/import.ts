import { createReadStream } from 'node:fs';
import { importSessions } from '../../transfer/index.js';
import { type CommandSpec, EXIT } from '../command.js';
import { progress } from '../progress.js';

/** `tsession import [file]`: JSON Lines (a file, or stdin) into the store. */
export const importCommand: CommandSpec = {
  name: 'import',
  args: ['[file]'],
  description: 'read JSON Lines (a file, or stdin) into the store',
  options: {
    strict: { type: 'boolean', description: 'stop at the first malformed line', default: false },
    replace: { type: 'boolean', description: 'replace sessions that already exist', default: false },
    'allow-internal': {
      type: 'boolean',
      description: "import tsession's own entries (the fingerprint binding) from your own export",
      default: false,
    },
    'third-party-keys': {
      type: 'boolean',
      description: 'the client keys are ids made by another party (thirdParty), not signed ids',
      default: false,
    },
  },
  readOnly: false,
  async run({ store }, { args, options, globals }) {
    const bar = progress('import', undefined, !globals.json);
    const file = args[0];
    const report = await importSessions(store, file ? createReadStream(file) : process.stdin, {
      strict: options.strict === true,
      replace: options.replace === true,
      allowInternal: options['allow-internal'] === true,
      clientKeys: options['third-party-keys'] === true ? 'thirdParty' : 'signed',
      onProgress: (r) => bar.update(r.imported + r.skipped),
    });
    bar.stop();
    if (globals.json) console.log(JSON.stringify(report));
    else {
      console.log(`imported ${report.imported}, skipped ${report.skipped} (existing or expired)`);
      for (const p of report.problems) console.error(`line ${p.line}: ${p.message}`);
    }
    if (report.problems.length > 0) process.exitCode = EXIT.importProblems;
  },
};
