import { readFileSync } from 'node:fs';
import { SessionConfigError, StoreUnavailableError } from '../errors.js';
import { ImportLineError } from '../transfer/index.js';
import { CliError, EXIT, UsageError } from './command.js';
import { COMMANDS } from './commands/index.js';
import { helpText } from './help.js';
import { parseCommandLine } from './parse.js';
import { openStore } from './store-url.js';

export { EXIT } from './command.js';

/** Runs the `tsession` program on `argv`, turning errors into messages and exit codes. */
export async function main(argv = process.argv): Promise<void> {
  try {
    await run(argv.slice(2));
  } catch (error) {
    process.exitCode = exitCodeOf(error);
    console.error(error instanceof Error ? error.message : String(error));
    if (error instanceof UsageError) console.error('Run "tsession --help" for the commands and options.');
  }
}

async function run(args: readonly string[]): Promise<void> {
  const invocation = parseCommandLine(args, COMMANDS);
  if (invocation.kind === 'version') return console.log(version());
  if (invocation.kind === 'help') return console.log(helpText(COMMANDS, invocation.command));
  const { command, globals } = invocation;
  const opened = await openStore(globals.store, { readOnly: command.readOnly });
  try {
    await command.run(opened, invocation);
  } finally {
    if (!command.keepsStore) await opened.store.close();
  }
}

/** The version in the package's own package.json (two levels up from both `src/cli` and `dist/cli`). */
function version(): string {
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  return String(manifest.version);
}

function exitCodeOf(error: unknown): number {
  if (error instanceof UsageError || error instanceof SessionConfigError) return EXIT.usage;
  if (error instanceof CliError) return error.exitCode;
  if (error instanceof StoreUnavailableError) return EXIT.unavailable;
  if (error instanceof ImportLineError) return EXIT.importProblems;
  return EXIT.failure;
}
